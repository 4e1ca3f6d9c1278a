"""The engine's process handling: supervision (a watched process, one process group), its recorded state, the
pinger that keeps Python workers warm, and `engine status` on a home without an engine."""

import contextlib
import json
import os
import subprocess
import sys
import time

import psutil
from click.testing import CliRunner

from tweet_sentiment.cli import main
from tweet_sentiment.engine.keep_warm import PING_ROWS, ping
from tweet_sentiment.engine.state import EngineState, engine_dir, read_state
from tweet_sentiment.settings import HomeLayout


def _wait_gone(pids: list[int], timeout_s: float = 30) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return True
        time.sleep(0.2)
    return False


def test_the_supervised_group_ends_with_the_watched_process():
    watched = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "tweet_sentiment.engine.supervise", "--watch", str(watched.pid), "--",
         sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '600']); time.sleep(600)"],
        start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while len(psutil.Process(supervisor.pid).children(recursive=True)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        group = [supervisor.pid] + [c.pid for c in psutil.Process(supervisor.pid).children(recursive=True)]
        assert len(group) == 3  # the supervisor, the command and the command's own child

        watched.kill()
        watched.wait()
        supervisor.wait(timeout=30)
        assert _wait_gone(group)
    finally:
        watched.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(supervisor.pid, 9)


def test_state_round_trips_and_a_broken_file_reads_as_no_engine(tmp_path):
    layout = HomeLayout.resolve(tmp_path / "home")
    engine_dir(layout).mkdir(parents=True)
    state = EngineState(pid=1, port=2, ui_port=3, master="local[2]", bind="127.0.0.1", session_id="s",
                        started_at=4.0, log="x.log", start_s=9.5)
    (engine_dir(layout) / "engine.json").write_text(json.dumps(state.__dict__))
    assert read_state(layout) == state
    assert state.url == "sc://127.0.0.1:2/;session_id=s" and state.ui_url == "http://127.0.0.1:3"

    (engine_dir(layout) / "engine.json").write_text("{not json")
    assert read_state(layout) is None


def test_a_ping_runs_python_in_the_engine(spark):
    assert ping(spark) == PING_ROWS


def test_status_of_a_home_without_an_engine_says_how_to_start_one(tmp_path, monkeypatch):
    result = CliRunner().invoke(main, ["engine", "status", "--home", str(tmp_path / "home")])
    assert result.exit_code == 1
    assert "not running" in result.output and "engine start" in result.output


def test_an_engine_stops_itself_when_its_home_is_deleted(tmp_path):
    import shutil

    from tweet_sentiment.engine.server import start_engine

    layout = HomeLayout.resolve(tmp_path / "home")
    state = start_engine(layout, master="local[1]", keep_warm=False, idle_minutes=0)
    try:
        group = [state.pid] + [c.pid for c in psutil.Process(state.pid).children(recursive=True)]
        assert any("java" in psutil.Process(p).name() for p in group)
        shutil.rmtree(layout.root)  # `rm -rf` of the home: nothing else would ever stop this engine
        assert _wait_gone(group, timeout_s=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.pid, 9)  # whatever is left of the group, if the test failed
