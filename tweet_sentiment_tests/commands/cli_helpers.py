"""Running the real `tweet-sentiment` command in child processes: started together, always stopped, checked whole."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tweet_sentiment.processes import stop_tree
from tweet_sentiment_tests.helpers import read_table

CLI = [sys.executable, "-c", "from tweet_sentiment.cli import main; main()"]
# What a batch run launched by the daemon does: the batch job in its own process, with the sensor's tags.
DAEMON_STYLE_RUN = """
import sys
from tweet_sentiment.instance import open_instance
from tweet_sentiment.commands.batches import run_batch
from tweet_sentiment.settings import HomeLayout
layout = HomeLayout.resolve(sys.argv[1])
instance = open_instance(layout)
from tweet_sentiment.definitions import defs
definitions = defs()
outcome = run_batch(definitions, instance, definitions.resources["tweet_home"].manifest().batch(sys.argv[2]))
sys.exit(0 if outcome.success else 1)
"""
# The daemon's sensor taking the files: a batch registered with its partition, its run not started yet.
REGISTER = """
import sys
from pathlib import Path
from tweet_sentiment.instance import open_instance
from tweet_sentiment.landing.discovery import DiscoveryLimits, discover
from tweet_sentiment.landing.manifest import Manifest
from tweet_sentiment.settings import HomeLayout
layout = HomeLayout.resolve(sys.argv[1])
instance = open_instance(layout)
found = discover(Manifest(layout.manifest), Path(sys.argv[2]), None, DiscoveryLimits(quiet_seconds=0))
(batch,) = found.registration.batches
instance.add_dynamic_partitions("batches", [batch.key])
print(batch.key)
"""


def env_for(home: Path, source: Path) -> dict[str, str]:
    return {**os.environ, "TWEET_SENTIMENT_HOME": str(home), "TWEET_SENTIMENT_SOURCE": str(source),
            "TWEET_SENTIMENT_SPARK_MASTER": "local[1]", "TWEET_SENTIMENT_SPARK_DRIVER_MEMORY": "1g",
            "HF_HUB_OFFLINE": "1"}


@contextmanager
def started(commands: list[list[str]], env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen]]:
    """Start every command at once, each in its own process group; stop whatever is left, also on failure."""
    logs.mkdir(parents=True, exist_ok=True)
    processes = []
    try:
        for index, command in enumerate(commands):
            with (logs / f"{len(list(logs.iterdir()))}-{index}.log").open("wb") as log:
                processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                  start_new_session=True))
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                stop_tree(process, grace_s=5)


def race(commands: list[list[str]], env: dict[str, str], logs: Path) -> list[int]:
    with started(commands, env, logs) as processes:
        codes = [process.wait(timeout=600) for process in processes]
    assert codes == [0] * len(codes), "\n\n".join(p.read_text(errors="replace")[-3000:] for p in logs.iterdir())
    return codes


def assert_whole(spark, home: Path, tweets: int, logs: Path, env: dict[str, str]) -> None:
    """Every tweet once in bronze, every gold row once in the aggregate, and `status` still works."""
    bronze = read_table(spark, home, "bronze_tweets")
    assert bronze.count() == tweets
    assert bronze.select("source_file", "line_number").distinct().count() == tweets
    gold = read_table(spark, home, "gold_predictions")
    assert gold.count() == read_table(spark, home, "silver_mentions").count() > 0
    mentions = read_table(spark, home, "mention_sentiment")
    assert mentions.groupBy().sum("total").first()[0] == gold.count()
    status = subprocess.run([*CLI, "status"], env=env, capture_output=True, text=True, timeout=300)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "still need a run" not in status.stdout and "never fully" not in status.stdout
