"""A quiet terminal for the CLI's long commands: the command's own progress and summary on the terminal, everything
else (library warnings, progress bars, Dagster's step logs, anything a child process prints) in a log file under the
home. `--verbose` shows everything on the terminal too."""

import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
"""Libraries that print progress bars or notices of their own, told not to (their warnings still reach the log)."""


def log_file(logs: Path, command: str) -> Path:
    """`<logs>/<command>-<UTC time>.log`, its folder created."""
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"{command}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.log"


@contextmanager
def quiet_terminal(console: Console, log_path: Path, verbose: bool = False) -> Iterator[None]:
    """While inside: `console` writes to the terminal; the process's stdout and stderr (and so every library and
    child process) write to `log_path`. Verbose: nothing is redirected, Python's logging is copied to the file."""
    if verbose:
        root = logging.getLogger()
        # A root handler silences logging's last-resort printer: keep the terminal's copy explicitly.
        handlers = [logging.FileHandler(log_path)] + ([] if root.handlers else [logging.StreamHandler()])
        for handler in handlers:
            root.addHandler(handler)
        try:
            yield
        finally:
            for handler in handlers:
                root.removeHandler(handler)
                handler.close()
        return
    os.environ.update({k: v for k, v in QUIET_ENV.items() if k not in os.environ})
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    previous_file = console.file
    console.file = terminal
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            console.file = previous_file
            terminal.close()
