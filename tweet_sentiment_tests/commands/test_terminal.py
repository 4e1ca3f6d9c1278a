"""The quiet terminal: the command's console on the terminal; library output, warnings and child processes in the
log file; verbose leaves the terminal as it is."""

import subprocess
import sys

SCRIPT = """
import logging, os, subprocess, sys, warnings
from pathlib import Path
from rich.console import Console
from tweet_sentiment.commands.terminal import quiet_terminal

console = Console()
with quiet_terminal(console, Path(sys.argv[1]), verbose=sys.argv[2] == "verbose"):
    console.print("summary line")
    print("library print")
    warnings.warn("library warning")
    logging.getLogger("some.library").warning("library log")
    subprocess.run(["echo", "child output"], check=True)
console.print("after")
"""


def _run(tmp_path, mode: str) -> tuple[str, str]:
    log = tmp_path / f"{mode}.log"
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(log), mode], capture_output=True, text=True, check=True)
    return out.stdout + out.stderr, log.read_text() if log.exists() else ""


def test_quiet_sends_everything_but_the_console_to_the_log(tmp_path):
    terminal, log = _run(tmp_path, "quiet")
    assert "summary line" in terminal and "after" in terminal
    for noise in ("library print", "library warning", "library log", "child output"):
        assert noise not in terminal and noise in log


def test_verbose_keeps_everything_on_the_terminal(tmp_path):
    terminal, log = _run(tmp_path, "verbose")
    for line in ("summary line", "library print", "library warning", "library log", "child output"):
        assert line in terminal
    assert "library log" in log
