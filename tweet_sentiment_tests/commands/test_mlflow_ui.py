"""The MLflow UI keeps its port across `dev` restarts (links saved in metadata stay valid), and moves only when
another process holds it."""

import socket

from tweet_sentiment.commands.mlflow_ui import _ui_port, mlflow_ui_command, remembered_ui_url
from tweet_sentiment.settings import HomeLayout


def test_the_port_is_remembered_and_reused_while_free(tmp_path):
    layout = HomeLayout.resolve(tmp_path / "home")
    assert remembered_ui_url(layout) is None
    first = _ui_port(layout)
    assert remembered_ui_url(layout) == f"http://127.0.0.1:{first}"
    assert _ui_port(layout) == first

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", first))
        holder.listen()
        moved = _ui_port(layout)
    assert moved != first and remembered_ui_url(layout) == f"http://127.0.0.1:{moved}"


def test_the_ui_listens_on_loopback_only(tmp_path):
    command = mlflow_ui_command("sqlite:///x.db", tmp_path / "artifacts", 5123)
    assert command[command.index("--host") + 1] == "127.0.0.1" and command[command.index("--port") + 1] == "5123"
