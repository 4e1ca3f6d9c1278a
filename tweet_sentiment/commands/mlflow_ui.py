"""The MLflow UI beside `tweet-sentiment dev`: on loopback, at the port the home remembers (a free one the first
time), stopped when dev stops."""

import socket
import subprocess
import sys
from pathlib import Path

from tweet_sentiment.processes import free_port
from tweet_sentiment.settings import HomeLayout

UI_URL_ENV_VAR = "TWEET_SENTIMENT_MLFLOW_UI_URL"
"""The MLflow UI's address; the code location links its metadata (evaluation runs, model versions) there."""


def mlflow_ui_command(tracking_uri: str, artifacts: Path, port: int) -> list[str]:
    """`mlflow server` for the home's store, on 127.0.0.1 only, serving the home's artifacts."""
    return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri,
            "--default-artifact-root", artifacts.as_uri(), "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1"]


def _port_file(layout: HomeLayout) -> Path:
    return layout.mlflow / "ui-port"


def remembered_ui_url(layout: HomeLayout) -> str | None:
    """The address the home's MLflow UI had (and gets again) under `dev`: metadata links written by `run` point
    there too, and work whenever `dev` runs."""
    try:
        return f"http://127.0.0.1:{int(_port_file(layout).read_text())}"
    except (OSError, ValueError):
        return None


def _ui_port(layout: HomeLayout) -> int:
    """The home's remembered port when it is free, else a new free one (remembered from now on), so that links
    saved in metadata keep working across `dev` restarts."""
    remembered = remembered_ui_url(layout)
    if remembered is not None:
        port = int(remembered.rsplit(":", 1)[1])
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                pass
    port = free_port()
    _port_file(layout).parent.mkdir(parents=True, exist_ok=True)
    _port_file(layout).write_text(str(port))
    return port


def start_mlflow_ui(layout: HomeLayout, tracking_uri: str, watch_pid: int) -> str:
    """Start the MLflow UI in the background, alive as long as `watch_pid` is; return its URL (without waiting for
    it to answer: it takes a few seconds, like the Dagster UI)."""
    port = _ui_port(layout)
    command = mlflow_ui_command(tracking_uri, layout.mlflow / "artifacts", port)
    supervised = [sys.executable, "-m", "tweet_sentiment.engine.supervise", "--watch", str(watch_pid), "--", *command]
    log = (layout.mlflow / "mlflow-ui.log").open("ab")
    subprocess.Popen(supervised, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     start_new_session=True, cwd=layout.mlflow)
    return f"http://127.0.0.1:{port}"
