"""Run a server and its helpers as one process group:
`python -m tweet_sentiment.engine.supervise [--watch PID] [--keep-warm URL] [--stop-without DIR]
[--idle-minutes M --port P --keepers DIR] -- command...`.

The command (the engine's JVM, the MLflow UI, the landing watcher) runs until it exits, this supervisor is told to
stop (SIGTERM), the watched PID ends (tests: an engine started for a test session never outlives it, even when the
session is killed), the folder `--stop-without` names is gone (an engine whose home was deleted), or, with
`--idle-minutes`, nothing used the engine for that long (see `idle`). With `--keep-warm`, the pinger that keeps the
engine's Python workers alive runs beside it. Stopping kills the whole group (the JVM, its Python workers, the
pinger), so one `killpg` of the supervisor's pid stops everything.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tweet_sentiment.engine.idle import connected_clients, live_keepers

IDLE_CHECK_EVERY_S = 15.0


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="supervise")
    parser.add_argument("--watch", type=int, default=None)
    parser.add_argument("--keep-warm", default=None)
    parser.add_argument("--stop-without", type=Path, default=None)
    parser.add_argument("--idle-minutes", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--keepers", type=Path, default=None)
    return parser.parse_args(argv[:split]), argv[split + 1:]


class IdleClock:
    """Seconds since the engine last had a client or a keeper, looked at every IDLE_CHECK_EVERY_S (more often for
    an idle limit under a minute)."""

    def __init__(self, port: int, keepers: Path | None, pinger: int | None, limit_s: float) -> None:
        self.port, self.keepers, self.pinger = port, keepers, pinger
        self.every_s = min(IDLE_CHECK_EVERY_S, limit_s / 4)
        self.last_used = self.last_look = time.monotonic()

    def idle_seconds(self) -> float:
        now = time.monotonic()
        if now - self.last_look >= self.every_s:
            self.last_look = now
            ignored = {self.pinger} if self.pinger is not None else set()
            if connected_clients(self.port, ignored) or (self.keepers and live_keepers(self.keepers)):
                self.last_used = now
        return now - self.last_used


def reason_to_stop(options: argparse.Namespace, child: subprocess.Popen, idle: IdleClock | None) -> str | None:
    """Why the group should stop now, None while it should run."""
    if child.poll() is not None:
        return f"the command exited with code {child.returncode}"
    if options.watch is not None and not psutil.pid_exists(options.watch):
        return f"the watched process {options.watch} ended"
    if options.stop_without is not None and not options.stop_without.is_dir():
        return f"{options.stop_without} is gone (its home was deleted)"
    if idle is not None and idle.idle_seconds() > options.idle_minutes * 60:
        return f"no client for {options.idle_minutes:g} minutes (TWEET_SENTIMENT_ENGINE_IDLE_MINUTES)"
    return None


def main(argv: list[str]) -> int:
    options, command = parse(argv)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Before the children start: they then get SIGTERM's default action even where this process was started with
    # SIGTERM ignored (nohup-style launchers), and the JVM stops when told instead of after the kill timeout.
    signal.signal(signal.SIGTERM, stop)
    child = subprocess.Popen(command)
    pinger = None
    if options.keep_warm:
        pinger = subprocess.Popen([sys.executable, "-m", "tweet_sentiment.engine.keep_warm", options.keep_warm],
                                  stdin=subprocess.DEVNULL).pid
    idle = None
    if options.idle_minutes > 0 and options.port is not None:
        idle = IdleClock(options.port, options.keepers, pinger, options.idle_minutes * 60)
    reason = None
    while not stopping and reason is None:
        time.sleep(min(1.0, idle.every_s) if idle is not None else 1.0)
        reason = reason_to_stop(options, child, idle)
    print(f"supervisor: stopping: {reason or 'told to stop'}", flush=True)
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    os.killpg(os.getpgrp(), signal.SIGKILL)  # anything the JVM started (Python workers) and the pinger go too
    return child.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
