"""Child processes the platform starts (servers, JVMs, `dagster dev`): stopped whole, never left behind."""

import contextlib
import os
import signal
import socket
import subprocess
import time

import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_tree(process: subprocess.Popen, grace_s: float = 20.0) -> list[int]:
    """Stop `process`, its process group and every descendant (run workers, Spark JVMs); return leftover pids."""
    try:
        tree = [process.pid] + [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = [process.pid]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    leftovers = []
    for pid in tree:
        try:
            child = psutil.Process(pid)
            child.wait(timeout=0.5 if pid != process.pid else 0)
        except psutil.NoSuchProcess:
            continue
        except psutil.TimeoutExpired:
            leftovers.append(child)
            child.kill()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    _wait_until_dead(leftovers)
    return [p.pid for p in leftovers]


def _wait_until_dead(processes: list[psutil.Process], timeout_s: float = 10.0) -> None:
    """Wait until every killed process is gone or a zombie (a kill takes effect asynchronously; a zombie whose
    parent died waits for init to reap it, but runs nothing)."""
    deadline = time.monotonic() + timeout_s
    for proc in processes:
        while time.monotonic() < deadline:
            try:
                if proc.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
