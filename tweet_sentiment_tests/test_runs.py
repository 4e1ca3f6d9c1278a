"""Runs whose process is gone are marked failed; live runs and runs of other machines are left alone."""

import subprocess
import sys

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from tweet_sentiment.defs.automation import orphaned_runs_sensor
from tweet_sentiment.runs import HOST_TAG, fail_orphaned_runs, process_tags


def _run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run = DagsterRun(job_name="batch_pipeline_with_mentions", status=dg.DagsterRunStatus.STARTED, tags=tags)
    return instance.add_run(run).run_id


def _tags_of_a_killed_process() -> dict[str, str]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    tags = process_tags(process.pid)
    process.kill()
    process.wait()
    return tags


def test_runs_whose_process_died_are_failed_and_stop_holding_run_slots(instance: dg.DagsterInstance) -> None:
    killed = [_run(instance, _tags_of_a_killed_process()) for _ in range(2)]
    live = _run(instance, process_tags())
    elsewhere = _run(instance, {**_tags_of_a_killed_process(), HOST_TAG: "another-machine"})
    untagged = _run(instance, {})

    with dg.build_sensor_context(instance=instance) as context:
        skip = orphaned_runs_sensor(context)
    assert "marked 2 orphaned runs failed" in skip.skip_message
    statuses = {run_id: instance.get_run_by_id(run_id).status for run_id in [*killed, live, elsewhere, untagged]}
    assert [statuses[r] for r in killed] == [dg.DagsterRunStatus.FAILURE] * 2
    assert {statuses[live], statuses[elsewhere], statuses[untagged]} == {dg.DagsterRunStatus.STARTED}
    in_progress = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert len(in_progress) == 3  # what the run queue counts against max_concurrent_runs
    assert fail_orphaned_runs(instance) == []  # once is enough
