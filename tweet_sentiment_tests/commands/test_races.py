"""Two `tweet-sentiment run` at once (a cron job and a person), on a fresh, an initialised and a populated home, and a
CLI run racing a daemon-style run of the same batch: nothing lost, nothing twice, no run red, the home still works."""

import subprocess
import sys

import pytest

from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment_tests.commands.cli_helpers import CLI, DAEMON_STYLE_RUN, REGISTER, assert_whole, env_for, race
from tweet_sentiment_tests.gold_helpers import register_tiny


@pytest.mark.slow
def test_two_runs_at_once_on_fresh_initialised_and_populated_homes(tmp_path, spark):
    source = tmp_path / "source"
    write_source_files(source, tweets=120, files=3, seed=21, prefix="first")
    logs = tmp_path / "logs"

    fresh = tmp_path / "fresh"
    register_tiny(fresh)  # the registry only; no Dagster storage, manifest or tables yet
    race([[*CLI, "run"], [*CLI, "run"]], env_for(fresh, source), logs)
    assert_whole(spark, fresh, 120, logs, env_for(fresh, source))

    initialised = tmp_path / "initialised"
    register_tiny(initialised)
    race([[*CLI, "status"]], env_for(initialised, source), logs)  # Dagster storage and manifest, no tables
    race([[*CLI, "run"], [*CLI, "run"]], env_for(initialised, source), logs)
    assert_whole(spark, initialised, 120, logs, env_for(initialised, source))

    # Populated: four new files land on the fresh home, which holds the first three already.
    write_source_files(source, tweets=200, files=4, seed=22, prefix="second")
    race([[*CLI, "run"], [*CLI, "run"]], env_for(fresh, source), logs)
    assert_whole(spark, fresh, 320, logs, env_for(fresh, source))


@pytest.mark.slow
def test_a_cli_run_and_a_daemon_run_of_the_same_batch_both_succeed_with_the_same_rows(tmp_path, spark):
    source, home, logs = tmp_path / "source", tmp_path / "home", tmp_path / "logs"
    write_source_files(source, tweets=80, files=1, seed=23)
    register_tiny(home)
    env = env_for(home, source)
    registered = subprocess.run([sys.executable, "-c", REGISTER, str(home), str(source)], env=env, check=True,
                                capture_output=True, text=True, timeout=300)
    batch = registered.stdout.strip().splitlines()[-1]

    race([[sys.executable, "-c", DAEMON_STYLE_RUN, str(home), batch], [*CLI, "run"]], env, logs)
    assert_whole(spark, home, 80, logs, env)
