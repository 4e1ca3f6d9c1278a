"""Home locks: exclusive between processes, waiting or refusing, and released when their holder dies."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tweet_sentiment.locks import LockHeldError, file_lock, is_locked, lock_path

HOLD = ("import sys, time; from pathlib import Path; from tweet_sentiment.locks import file_lock\n"
        "with file_lock(Path(sys.argv[1]), what='test holder'):\n"
        "    print('held', flush=True); time.sleep(600)\n")


def _holder(path: Path) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"  # blocks until the child holds the lock
    return process


def test_a_lock_held_by_another_process_is_refused_or_waited_for_and_freed_by_its_death(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "batch", "b2026/01:x")
    assert path.name == "batch-b2026_01_x.lock"
    holder = _holder(path)
    try:
        assert is_locked(path)["what"] == "test holder"
        with (pytest.raises(LockHeldError, match=f"pid {holder.pid} \\(test holder"),
              file_lock(path, what="second", wait=False)):
            pass
        waits = []
        os.kill(holder.pid, signal.SIGKILL)  # killed with the lock held: the OS releases it
        with file_lock(path, what="second", on_wait=waits.append):
            assert is_locked(path) is not None  # held by us now (is_locked looks from a new file)
    finally:
        holder.kill()
        holder.wait()
    assert is_locked(path) is None


def test_two_holders_in_one_process_take_turns(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path, inside, overlaps = tmp_path / "t.lock", [], []

    def hold(index: int) -> None:
        with file_lock(path, what=f"thread {index}"):
            if inside:
                overlaps.append(index)
            inside.append(index)
            time.sleep(0.05)
            inside.remove(index)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(hold, range(8)))
    assert overlaps == []
