import json
import os
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tweet_sentiment.run_launcher import LAUNCHER_TAG, WARM, same_python
from tweet_sentiment.runs import PID_TAG


class ReportTo(dg.Config):
    # Not an environment variable: the warm server keeps the environment it started with, as a code server does.
    path: str


@dg.op
def report_process(config: ReportTo) -> None:
    """Where the run ran: its process, its parent, and which process imported the preloaded marker."""
    marker = sys.modules.get("tweet_sentiment_tests.preload_marker")
    Path(config.path).write_text(json.dumps({
        "pid": os.getpid(), "parent": os.getppid(), "marker_imported_in": getattr(marker, "IMPORTED_IN", None)}))


@dg.op
def wait_to_be_stopped(config: ReportTo) -> None:
    Path(config.path).write_text("started")
    for _ in range(600):
        time.sleep(0.1)


@dg.job(executor_def=dg.in_process_executor)
def report_job() -> None:
    report_process()


@dg.job(executor_def=dg.in_process_executor)
def stoppable_job() -> None:
    wait_to_be_stopped()


def _warm_instance():
    return dg.instance_for_test(overrides={"run_launcher": {
        "module": "tweet_sentiment.run_launcher", "class": "WarmRunLauncher",
        "config": {"preload": ["dagster", "tweet_sentiment_tests.preload_marker"]}}})


def _launch(instance: dg.DagsterInstance, job: dg.JobDefinition, report: Path) -> str:
    from dagster._core.launcher.base import LaunchRunContext

    origin = dg.reconstructable(job).get_python_origin()
    op = next(iter(job.graph.node_dict))
    run = instance.create_run_for_job(job_def=job, job_code_origin=origin,
                                      run_config={"ops": {op: {"config": {"path": str(report)}}}})
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return run.run_id


def _wait_finished(instance: dg.DagsterInstance, run_id: str, timeout_s: float = 180) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {instance.get_run_by_id(run_id).status} after {timeout_s} s")


def test_a_run_is_forked_from_the_warm_server_with_its_modules_loaded(tmp_path):
    report = tmp_path / "report.json"
    with _warm_instance() as instance:
        run_id = _launch(instance, report_job, report)
        run = _wait_finished(instance, run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        where = json.loads(report.read_text())
        # Imported once by the server, before the fork: the run found it loaded, and the server is its parent.
        assert where["marker_imported_in"] == where["parent"] != where["pid"]
        assert where["pid"] != os.getpid()
        assert run.tags[LAUNCHER_TAG] == WARM and run.tags[PID_TAG] == str(where["pid"])


def test_terminating_a_warm_run_cancels_it(tmp_path):
    started = tmp_path / "started"
    with _warm_instance() as instance:
        run_id = _launch(instance, stoppable_job, started)
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists(), "the run never started its op"
        assert instance.run_launcher.terminate(run_id)
        assert _wait_finished(instance, run_id, timeout_s=60).status == dg.DagsterRunStatus.CANCELED


def test_only_this_interpreter_is_forked():
    assert same_python(sys.executable)
    assert not same_python("/elsewhere/venv/bin/python")
    assert not same_python(None)


def test_a_run_of_another_python_goes_to_dagsters_launcher():
    from dagster._core.errors import DagsterInvariantViolationError
    from dagster._core.launcher.base import LaunchRunContext

    with _warm_instance() as instance:
        origin = dg.reconstructable(report_job).get_python_origin()
        origin = origin._replace(repository_origin=origin.repository_origin._replace(
            executable_path="/elsewhere/venv/bin/python"))
        run = instance.create_run_for_job(job_def=report_job, job_code_origin=origin,
                                          run_config={"ops": {"report_process": {"config": {"path": "unused"}}}})
        # The default launcher needs the code location's gRPC server from a workspace: none here.
        with pytest.raises(DagsterInvariantViolationError, match="workspace"):
            instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
        assert LAUNCHER_TAG not in instance.get_run_by_id(run.run_id).tags
