"""When an engine counts as idle: no client connected to its gRPC port (the pinger that keeps its workers warm does
not count) and no live keeper (a `dev` that holds the engine for as long as it runs).

A keeper is a file named by a process id in `<home>/engine/keepers/`; it counts while that process lives.
"""

import os
from collections.abc import Collection
from pathlib import Path

import psutil

IDLE_ENV_VAR = "TWEET_SENTIMENT_ENGINE_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 30.0


def idle_minutes_from_env() -> float:
    """`$TWEET_SENTIMENT_ENGINE_IDLE_MINUTES` (0: never stop), else 30; refuses what is not a number >= 0."""
    raw = os.environ.get(IDLE_ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_IDLE_MINUTES
    try:
        minutes = float(raw)
    except ValueError:
        raise ValueError(f"{IDLE_ENV_VAR}={raw!r} is not a number of minutes") from None
    if minutes < 0:
        raise ValueError(f"{IDLE_ENV_VAR}={raw!r}: the idle limit cannot be negative (0 keeps the engine running)")
    return minutes


def connected_clients(port: int, ignored_pids: Collection[int] = ()) -> int:
    """Established connections to `port` on this host, except those whose client end belongs to `ignored_pids`
    (a client on another host counts: its process is not ours to see)."""
    connections = psutil.net_connections(kind="tcp")
    client_pid_by_port = {c.laddr.port: c.pid for c in connections if c.raddr and c.raddr.port == port}
    return sum(1 for c in connections
               if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port and c.raddr
               and client_pid_by_port.get(c.raddr.port) not in ignored_pids)


def add_keeper(keepers: Path, pid: int) -> Path:
    """Keep the engine alive while `pid` runs (dev does this for itself)."""
    keepers.mkdir(parents=True, exist_ok=True)
    marker = keepers / str(pid)
    marker.touch()
    return marker


def live_keepers(keepers: Path) -> list[int]:
    """The keepers whose process still runs; the markers of ended ones are removed."""
    alive = []
    for marker in keepers.glob("[0-9]*") if keepers.is_dir() else []:
        pid = int(marker.name)
        if psutil.pid_exists(pid):
            alive.append(pid)
        else:
            marker.unlink(missing_ok=True)
    return alive
