"""Run a command while another process lives: `python -m tweet_sentiment.engine.supervise PID -- command...`.

The command (the engine's JVM) is stopped, with its whole process group, as soon as PID ends or it exits itself, so
an engine started for a test session never outlives that session, even when the session is killed.
"""

import os
import signal
import subprocess
import sys
import time

import psutil


def main(argv: list[str]) -> int:
    watched, command = int(argv[0]), argv[argv.index("--") + 1:]
    child = subprocess.Popen(command)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    while child.poll() is None and not stopping and psutil.pid_exists(watched):
        time.sleep(1.0)
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    os.killpg(os.getpgrp(), signal.SIGKILL)  # anything the JVM started (Python workers) goes too
    return child.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
