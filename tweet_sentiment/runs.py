"""Runs and the processes that run them: each run is tagged with its process, and a run whose process is gone (killed,
crashed, machine restarted) is marked failed, so that it neither looks in progress forever nor holds a run slot.

Dagster's run monitoring cannot tell for the default run launcher (it has no worker health check), and runs made by
`tweet-sentiment run` in-process have no launcher at all.
"""

import os
import socket

import dagster as dg
import psutil

HOST_TAG = "tweet_sentiment/host"
PID_TAG = "tweet_sentiment/pid"
PID_STARTED_TAG = "tweet_sentiment/pid_started"
UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_tags(pid: int | None = None) -> dict[str, str]:
    """This machine, the process id and its start time (a pid alone may be reused by a later process)."""
    process = psutil.Process(pid or os.getpid())
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(process.pid), PID_STARTED_TAG: f"{process.create_time():.3f}"}


def claim_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """Tag the run with the process running it, unless an earlier step of the same run did."""
    if PID_TAG not in run.tags:
        instance.add_run_tags(run.run_id, process_tags())


def process_is_gone(tags: dict[str, str]) -> bool:
    """Whether the process a run was tagged with no longer runs on this machine (False when it ran elsewhere or was
    never tagged: nothing is known then)."""
    if tags.get(HOST_TAG) != socket.gethostname() or PID_TAG not in tags:
        return False
    try:
        process = psutil.Process(int(tags[PID_TAG]))
        return f"{process.create_time():.3f}" != tags.get(PID_STARTED_TAG) or process.status() == psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ValueError):
        return True


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every unfinished run whose process is gone; the ids of those runs."""
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        if process_is_gone(dict(run.tags)):
            instance.report_run_failed(run, f"the process that ran it (pid {run.tags[PID_TAG]} on "
                                            f"{run.tags[HOST_TAG]}) is gone: killed or crashed mid-run")
            failed.append(run.run_id)
    return failed
