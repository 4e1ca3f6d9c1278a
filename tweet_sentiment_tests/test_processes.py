"""Stopping a process tree: the process, its group and every descendant."""

import subprocess
import sys
import time

import psutil

from tweet_sentiment.processes import stop_tree


def test_stop_tree_ends_the_process_group_and_its_descendants():
    script = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)")
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.time() + 30
    while not psutil.Process(process.pid).children() and time.time() < deadline:
        time.sleep(0.05)
    child = psutil.Process(process.pid).children()[0]
    stop_tree(process, grace_s=5)
    assert process.returncode is not None
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
