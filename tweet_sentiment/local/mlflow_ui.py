"""The MLflow UI beside `tweet-sentiment dev`: on loopback, at a free port, stopped when dev stops."""

import subprocess
import sys
import time
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


def start_mlflow_ui(layout: HomeLayout, tracking_uri: str, watch_pid: int) -> str:
    """Start the MLflow UI in the background, alive as long as `watch_pid` is; return its URL (without waiting for
    it to answer: it takes a few seconds, like the Dagster UI)."""
    port = free_port()
    command = mlflow_ui_command(tracking_uri, layout.mlflow / "artifacts", port)
    supervised = [sys.executable, "-m", "tweet_sentiment.engine.supervise", "--watch", str(watch_pid), "--", *command]
    log = (layout.mlflow / "mlflow-ui.log").open("ab")
    subprocess.Popen(supervised, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     start_new_session=True, cwd=layout.mlflow)
    return f"http://127.0.0.1:{port}"


def wait_for(url: str, timeout_s: float = 30.0) -> bool:
    """Whether the UI answered within `timeout_s`."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return True
        except OSError:
            time.sleep(0.5)
    return False
