"""Advisory file locks under the home folder: one writer per table, per batch and per home, whatever process runs it.

`flock` locks belong to an open file, so the operating system drops them when their process dies (kill -9
included): a crashed run never leaves a lock behind. They hold between processes of one machine on a local disk; two
machines writing one lakehouse rely on Delta's own conflict detection instead (the later commit fails).
"""

import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class LockHeldError(RuntimeError):
    """A lock that was asked for without waiting is held by another process."""

    def __init__(self, path: Path, holder: dict) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path.name} is held by {describe_holder(holder)}")


def lock_path(folder: Path, kind: str, name: str) -> Path:
    """`<folder>/<kind>-<name>.lock`, the name made safe for a file name."""
    return folder / f"{kind}-{_UNSAFE.sub('_', name)}.lock"


def describe_holder(holder: dict) -> str:
    """`pid 123 (tweet-sentiment run, since 12:00:01)` from what the holder wrote into the lock file."""
    if not holder:
        return "another process"
    since = time.strftime("%H:%M:%S", time.localtime(holder.get("since", 0)))
    what = holder.get("what") or "a process"
    return f"pid {holder.get('pid', '?')} ({what}, since {since})"


def read_holder(path: Path) -> dict:
    """What the current (or last) holder wrote: pid, what it does, since when; {} when unknown."""
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def file_lock(path: Path, what: str, wait: bool = True,
              on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the block; wait for it (saying who holds it) or raise LockHeldError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = read_holder(path)
            if not wait:
                raise LockHeldError(path, holder) from None
            if on_wait is not None:
                on_wait(f"waiting for {describe_holder(holder)} to release {path.name}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": time.time()}).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def is_locked(path: Path) -> dict | None:
    """The holder of `path` if another open file holds it now, else None (the lock is not taken)."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(path)
    finally:
        os.close(fd)
    return None
