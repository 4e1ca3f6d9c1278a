"""Faults replayed on a real home: `tweet-sentiment run` killed (-9, whole process group) while it builds the
aggregate, then run again: the killed run is marked failed and the aggregate equals a rebuild from gold."""

import os
import signal
import subprocess
import time

import dagster as dg
import psutil
import pytest
from dagster._core.instance.ref import InstanceRef

from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.locks import file_lock
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment.transforms.mention_sentiment import mention_sentiment
from tweet_sentiment_tests.commands.cli_helpers import CLI, assert_whole, env_for, race, started
from tweet_sentiment_tests.gold_helpers import register_tiny
from tweet_sentiment_tests.helpers import read_table


def _instance(layout: HomeLayout) -> dg.DagsterInstance:
    """The home's instance, opened as every process of the platform does: under the stores lock (the run may still
    be creating its storage)."""
    with file_lock(layout.locks / "stores.lock", what="test reading the instance"):
        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(layout.dagster_home)))


def _step_started(instance: dg.DagsterInstance, step: str) -> bool:
    for record in instance.get_run_records():
        events = instance.event_log_storage.get_records_for_run(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_START).records
        if any(e.event_log_entry.step_key == step for e in events):
            return True
    return False


@pytest.mark.slow
def test_a_run_killed_while_it_builds_the_aggregate_is_healed_by_the_next_run(tmp_path, spark):
    source, home, logs = tmp_path / "source", tmp_path / "home", tmp_path / "logs"
    write_source_files(source, tweets=150, files=3, seed=31)
    register_tiny(home)
    env = env_for(home, source)
    layout = HomeLayout.resolve(home)

    with started([[*CLI, "run"]], env, logs) as (process,):
        deadline = time.monotonic() + 600
        while process.poll() is None and time.monotonic() < deadline:
            if (layout.dagster_home / "dagster.yaml").exists():
                with _instance(layout) as instance:
                    if _step_started(instance, "mention_sentiment"):
                        os.killpg(process.pid, signal.SIGKILL)
                        break
            time.sleep(0.2)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run ended before the aggregate started"

    race([[*CLI, "run"]], env, logs)

    gold = read_table(spark, home, "gold_predictions")
    stored = read_table(spark, home, "mention_sentiment")
    rebuilt = mention_sentiment(gold)
    assert stored.count() == rebuilt.count() > 0
    assert stored.exceptAll(rebuilt).count() == 0 and rebuilt.exceptAll(stored).count() == 0
    with _instance(layout) as instance:
        unfinished = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert unfinished == []  # the killed run was marked failed, not left STARTED
        assert len(instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))) == 1
    status = subprocess.run([*CLI, "status"], env=env, capture_output=True, text=True, timeout=300)
    assert "still need a run" not in status.stdout


def _jvm_of(layout: HomeLayout) -> psutil.Process:
    """The engine's JVM: the java process under the home's engine supervisor."""
    from tweet_sentiment.engine.state import read_state

    supervisor = psutil.Process(read_state(layout).pid)
    (jvm,) = [p for p in supervisor.children(recursive=True) if "java" in p.name()]
    return jvm


@pytest.mark.slow
def test_a_run_whose_engine_dies_fails_at_once_and_the_next_run_finishes_the_batch(tmp_path, spark):
    from tweet_sentiment.engine.client import REMOTE_ENV_VAR
    from tweet_sentiment.engine.server import stop_engine

    source, home, logs = tmp_path / "source", tmp_path / "home", tmp_path / "logs"
    write_source_files(source, tweets=150, files=1, seed=41)
    register_tiny(home)
    env = {k: v for k, v in env_for(home, source).items() if k != REMOTE_ENV_VAR}  # the home's own engine
    layout = HomeLayout.resolve(home)
    try:
        with started([[*CLI, "run"]], env, logs) as (process,):
            deadline = time.monotonic() + 600
            while process.poll() is None and time.monotonic() < deadline:
                if (layout.dagster_home / "dagster.yaml").exists():
                    with _instance(layout) as instance:
                        if _step_started(instance, "gold_predictions"):
                            break
                time.sleep(0.2)
            jvm = _jvm_of(layout)
            jvm.kill()
            killed_at = time.monotonic()
            process.wait(timeout=180)  # a hang guard: it used to retry a dead engine for half an hour
            print(f"the run exited {time.monotonic() - killed_at:.1f} s after the engine's JVM was killed")
        output = "\n".join(p.read_text(errors="replace") for p in logs.iterdir())
        assert process.returncode == 1, output[-3000:]
        assert "stopped while this run was using it" in output and str(layout.root / "engine" / "engine.log") in output

        # The next run finishes the batch: here on the session's engine (a new JVM for the home would start the same
        # way the first run's did, at a minute of this machine's time).
        race([[*CLI, "run"]], env_for(home, source), logs)
        assert_whole(spark, home, 150, logs, env_for(home, source))
    finally:
        stop_engine(layout)
