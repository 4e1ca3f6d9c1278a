"""What `engine start` records about a home's engine (`<home>/engine/engine.json`), and whether it is running."""

import json
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from tweet_sentiment.settings import HomeLayout


class EngineError(RuntimeError):
    """The engine did not start, or does not answer, with what to do about it."""


class EngineStoppedError(EngineError):
    """The home's engine process ended while a client was using it."""


@dataclass(frozen=True)
class EngineState:
    """What `engine start` recorded about the running server."""

    pid: int
    port: int
    ui_port: int
    master: str
    bind: str
    session_id: str
    started_at: float
    log: str
    start_s: float | None = None
    """Seconds from launch until the server answered."""
    idle_minutes: float = 0.0
    """Minutes with no client after which the engine stops itself (0: never)."""

    @property
    def url(self) -> str:
        """The Connect URL every client of this home uses (one shared session)."""
        return f"sc://{self.bind}:{self.port}/;session_id={self.session_id}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.bind}:{self.ui_port}"


def engine_dir(layout: HomeLayout) -> Path:
    return layout.root / "engine"


def keepers_dir(layout: HomeLayout) -> Path:
    """Where processes that keep the engine alive while they run (`dev`) leave their pid (see `idle`)."""
    return engine_dir(layout) / "keepers"


def read_state(layout: HomeLayout) -> EngineState | None:
    try:
        return EngineState(**json.loads((engine_dir(layout) / "engine.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None


def answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def is_running(state: EngineState | None) -> bool:
    """The recorded server process is alive and its port answers."""
    if state is None or not psutil.pid_exists(state.pid):
        return False
    try:
        if psutil.Process(state.pid).status() == psutil.STATUS_ZOMBIE:
            return False
    except psutil.NoSuchProcess:
        return False
    return answers(state.bind, state.port)
