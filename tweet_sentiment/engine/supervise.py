"""Run the engine's server and its helpers as one process group:
`python -m tweet_sentiment.engine.supervise [--watch PID] [--keep-warm URL] -- command...`.

The command (the engine's JVM) runs until it exits, this supervisor is told to stop (SIGTERM), or the watched PID
ends (tests: an engine started for a test session never outlives it, even when the session is killed). With
`--keep-warm`, the pinger that keeps the engine's Python workers alive runs beside it. Stopping kills the whole group
(the JVM, its Python workers, the pinger), so one `killpg` of the supervisor's pid stops everything.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

import psutil


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="supervise")
    parser.add_argument("--watch", type=int, default=None)
    parser.add_argument("--keep-warm", default=None)
    return parser.parse_args(argv[:split]), argv[split + 1:]


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
    if options.keep_warm:
        subprocess.Popen([sys.executable, "-m", "tweet_sentiment.engine.keep_warm", options.keep_warm],
                         stdin=subprocess.DEVNULL)
    while child.poll() is None and not stopping and (options.watch is None or psutil.pid_exists(options.watch)):
        time.sleep(1.0)
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
