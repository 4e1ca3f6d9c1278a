"""The engine: one long-lived Spark Connect server with Delta Lake per home, which runs and clients talk to.

`start_engine` launches `SparkConnectServer` through the pip wheel's `spark-submit` (the wheel has no
`start-connect-server.sh`), detached, bound to 127.0.0.1 unless told otherwise, and keeps its pid, ports, master,
log and session id in `<home>/engine/engine.json`. Every client of the home joins one Connect session (the id in
that file), so they share the server's Python workers and the model those workers loaded.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import psutil

from tweet_sentiment.engine.idle import idle_minutes_from_env
from tweet_sentiment.engine.spark_config import (
    delta_packages,
    delta_spark_config,
    remember_delta_jars,
    resolved_delta_jars,
)
from tweet_sentiment.engine.state import (
    EngineError,
    EngineState,
    answers,
    engine_dir,
    is_running,
    keepers_dir,
    read_state,
)
from tweet_sentiment.locks import file_lock
from tweet_sentiment.processes import free_port, stop_tree
from tweet_sentiment.settings import HomeLayout

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
DEFAULT_BIND = "127.0.0.1"
_CLIENT_SIDE = ("spark.master", "spark.app.name", "spark.sql.execution.arrow.pyspark.enabled")


def spark_submit() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-submit"


def server_command(master: str, bind: str, port: int, ui_port: int, scratch: Path) -> list[str]:
    """`spark-submit` of the Connect server with Delta Lake and the project's settings."""
    config = delta_spark_config(master, scratch)
    config |= {
        "spark.connect.grpc.binding.address": bind,
        "spark.connect.grpc.binding.port": str(port),
        "spark.ui.enabled": "true",
        "spark.ui.port": str(ui_port),
        "spark.driver.host": bind,
        "spark.driver.bindAddress": bind,
        # Python workers (gold's model) run this interpreter, where the project is installed.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # The shared session must outlive quiet hours: a session the server timed out cannot be joined again.
        "spark.connect.session.manager.defaultSessionTimeout": "3650d",
    }
    command = [str(spark_submit()), "--class", SERVER_CLASS, "--name", "tweet_sentiment-engine", "--master", master]
    for key, value in config.items():
        if key not in _CLIENT_SIDE:
            command += ["--conf", f"{key}={value}"]
    return [*command, "spark-internal"]


def start_engine(layout: HomeLayout, master: str | None = None, port: int | None = None, bind: str = DEFAULT_BIND,
                 watch_pid: int | None = None, keep_warm: bool = True, timeout_s: float = 240.0,
                 on_wait: Callable[[str], None] | None = None, idle_minutes: float | None = None) -> EngineState:
    """The home's running engine, started first if it is not running. It stops itself when its home is deleted,
    and after `idle_minutes` with no client (default `$TWEET_SENTIMENT_ENGINE_IDLE_MINUTES` or 30; 0: never; a `dev`
    keeps it while it runs). With `watch_pid`, it also stops when that process ends (tests, so that a killed test
    session leaves no JVM behind). `keep_warm` runs the pinger that keeps its Python workers (and gold's model) alive
    through quiet spells (see `keep_warm`); the pinger does not count as a client."""
    folder = engine_dir(layout)
    idle_minutes = idle_minutes_from_env() if idle_minutes is None else idle_minutes
    with file_lock(layout.locks / "engine.lock", what="starting the engine", on_wait=on_wait):
        state = read_state(layout)
        if is_running(state):
            return state
        folder.mkdir(parents=True, exist_ok=True)
        state = EngineState(pid=0, port=port or free_port(), ui_port=free_port(),
                            master=master or delta_spark_config()["spark.master"], bind=bind,
                            session_id=str(uuid.uuid4()), started_at=time.time(), log=str(folder / "engine.log"),
                            idle_minutes=idle_minutes)
        command = server_command(state.master, bind, state.port, state.ui_port, layout.spark_local)
        supervisor = [sys.executable, "-m", "tweet_sentiment.engine.supervise", "--stop-without", str(folder),
                      "--idle-minutes", str(idle_minutes), "--port", str(state.port), "--keepers",
                      str(keepers_dir(layout))]
        supervisor += ["--watch", str(watch_pid)] if watch_pid is not None else []
        supervisor += ["--keep-warm", state.url] if keep_warm else []
        command = [*supervisor, "--", *command]
        env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
        if bind in ("127.0.0.1", "localhost"):
            env["SPARK_LOCAL_IP"] = "127.0.0.1"  # the Spark UI and block manager bind to loopback too
        with open(state.log, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=env, start_new_session=True, cwd=folder)
        state = EngineState(**{**asdict(state), "pid": process.pid})
        _wait_until_it_answers(process, state, timeout_s, on_wait)
        state = EngineState(**{**asdict(state), "start_s": round(time.time() - state.started_at, 3)})
        (folder / "engine.json").write_text(json.dumps(asdict(state), indent=2))
        _remember_jars(state)
        return state


def _wait_until_it_answers(process: subprocess.Popen, state: EngineState, timeout_s: float,
                           on_wait: Callable[[str], None] | None) -> None:
    if on_wait is not None:
        on_wait(f"starting the Spark engine ({state.master}) on {state.bind}:{state.port}; log {state.log}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineError(f"the Spark engine exited during start-up (code {process.returncode}); see "
                              f"{state.log}:\n{_tail(state.log)}")
        if answers(state.bind, state.port):
            return
        time.sleep(0.25)
    stop_tree(process, grace_s=10)
    raise EngineError(f"the Spark engine did not answer on {state.bind}:{state.port} within {timeout_s:.0f}s; see "
                      f"{state.log}:\n{_tail(state.log)}")


def _remember_jars(state: EngineState) -> None:
    """The Delta JARs Ivy resolved at this start, so the next start loads them directly (about 3 s less)."""
    from tweet_sentiment.engine.sessions import connect

    packages = delta_packages()
    if resolved_delta_jars(packages) is None:
        remember_delta_jars(connect(state.url).conf.get("spark.jars", ""), packages)


def _tail(path: str, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop_engine(layout: HomeLayout, grace_s: float = 30.0) -> bool:
    """Stop the home's engine (its whole process group); False when none was running."""
    with file_lock(layout.locks / "engine.lock", what="stopping the engine"):
        state = read_state(layout)
        (engine_dir(layout) / "engine.json").unlink(missing_ok=True)
        if state is None or not psutil.pid_exists(state.pid):
            return False
        from tweet_sentiment.engine.sessions import disconnect_all

        disconnect_all(state.url)
        _stop_pid(state.pid, grace_s)
        return True


def _stop_pid(pid: int, grace_s: float) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
        psutil.Process(pid).wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
