"""The supervisor's reasons to stop a server it runs, with a small Python server standing in for the engine's JVM: its
home folder deleted, and an idle limit that counts connected clients and keepers but not the pinger."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tweet_sentiment.engine.idle import add_keeper, connected_clients, idle_minutes_from_env, live_keepers
from tweet_sentiment.processes import free_port

SERVER = """
import socket, sys, time
listener = socket.socket()
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
accepted = []
listener.settimeout(0.2)
while True:
    try:
        accepted.append(listener.accept())
    except TimeoutError:
        pass
"""


def _supervised(tmp_path: Path, port: int, *options: str) -> subprocess.Popen:
    log = (tmp_path / "supervisor.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "tweet_sentiment.engine.supervise", *options, "--",
                             sys.executable, "-c", SERVER, str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _listening(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on {port}")


def _ended(process: subprocess.Popen, timeout_s: float = 60) -> bool:
    try:
        process.wait(timeout=timeout_s)
        return True
    except subprocess.TimeoutExpired:
        return False


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 9)
    process.wait()


def test_clients_count_unless_they_are_the_pinger(tmp_path):
    port = free_port()
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen()
    try:
        assert connected_clients(port) == 0
        with socket.create_connection(("127.0.0.1", port)) as client:
            served, _ = listener.accept()
            assert connected_clients(port) == 1
            assert connected_clients(port, ignored_pids={os.getpid()}) == 0  # as the pinger's own connection
            served.close()
            client.close()
    finally:
        listener.close()


def test_keepers_count_while_their_process_lives(tmp_path):
    keepers = tmp_path / "keepers"
    add_keeper(keepers, os.getpid())
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    add_keeper(keepers, ended.pid)
    assert live_keepers(keepers) == [os.getpid()]
    assert sorted(p.name for p in keepers.iterdir()) == [str(os.getpid())]  # the ended one's marker is gone


def test_the_idle_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("TWEET_SENTIMENT_ENGINE_IDLE_MINUTES", raising=False)
    assert idle_minutes_from_env() == 30.0
    monkeypatch.setenv("TWEET_SENTIMENT_ENGINE_IDLE_MINUTES", "0")
    assert idle_minutes_from_env() == 0.0
    for bad in ("-1", "soon"):
        monkeypatch.setenv("TWEET_SENTIMENT_ENGINE_IDLE_MINUTES", bad)
        try:
            idle_minutes_from_env()
        except ValueError as error:
            assert "TWEET_SENTIMENT_ENGINE_IDLE_MINUTES" in str(error)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_a_server_stops_when_its_home_folder_is_deleted(tmp_path):
    home, port = tmp_path / "home" / "engine", free_port()
    home.mkdir(parents=True)
    process = _supervised(tmp_path, port, "--stop-without", str(home))
    try:
        _listening(port)
        group = [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
        (home / "engine.json").write_text("{}")
        import shutil

        shutil.rmtree(tmp_path / "home")
        assert _ended(process), "the supervisor kept running after its home was deleted"
        assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in group)
        assert "is gone (its home was deleted)" in (tmp_path / "supervisor.log").read_text()
    finally:
        _stop(process)


def test_a_server_stops_after_its_idle_limit_with_no_client_or_keeper(tmp_path):
    port, keepers = free_port(), tmp_path / "keepers"
    marker = add_keeper(keepers, os.getpid())  # as `dev` does for itself
    process = _supervised(tmp_path, port, "--idle-minutes", "0.02", "--port", str(port), "--keepers", str(keepers))
    try:
        _listening(port)
        time.sleep(3)  # more than twice the 1.2 s limit
        assert process.poll() is None, "stopped while a keeper was alive"
        with socket.create_connection(("127.0.0.1", port)):
            marker.unlink()
            time.sleep(3)
            assert process.poll() is None, "stopped while a client was connected"
        assert _ended(process), "still running with no client and no keeper"
        assert "no client for 0.02 minutes" in (tmp_path / "supervisor.log").read_text()
    finally:
        _stop(process)
