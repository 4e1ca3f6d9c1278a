"""The unchanged pipeline on a real Spark standalone cluster (a master and one worker on 127.0.0.1, from the pip
wheel): the engine runs with `--master spark://...`, the work runs on the worker, and the tables equal those the local
engine makes from the same files."""

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pyspark
import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.evaluation import sentiment_batch_metrics
from tweet_sentiment.defs.gold import gold_predictions
from tweet_sentiment.defs.mention_sentiment import mention_sentiment
from tweet_sentiment.defs.model import MlflowRegistry
from tweet_sentiment.defs.production_model import production_model
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.engine.server import start_engine, stop_engine
from tweet_sentiment.engine.state import answers
from tweet_sentiment.lakehouse.delta_io_manager import DeltaSparkIOManager
from tweet_sentiment.processes import free_port, stop_tree
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import BATCH_JOB, register_tiny
from tweet_sentiment_tests.helpers import register_batches
from tweet_sentiment_tests.populated_home import PopulatedHome

TABLES = {"bronze_tweets": ["processing_time"], "quarantine": ["quarantined_at"], "silver_mentions": [],
          "gold_predictions": [], "mention_sentiment": []}
ASSETS = [production_model, bronze, silver, gold_predictions, sentiment_batch_metrics, mention_sentiment]


def _comparable(table: DataFrame, ignored: list[str]) -> DataFrame:
    """The table without what differs between two runs of the same files: batch ids, their ingest dates and
    processing times (also inside the raw records silver quarantines)."""
    if "raw_record" in table.columns:
        table = table.withColumn("raw_record", F.regexp_replace("raw_record", '"processing_time":"[^"]*"', ""))
    return table.drop("batch", "ingest_date", *ignored)


def _master_json(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/", timeout=5) as response:  # note the slash
        return json.load(response)


def _wait(condition, what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError):  # not up yet, or its web UI still answering with a page instead of JSON
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} within {timeout_s:.0f}s")


@contextmanager
def standalone_cluster(work: Path) -> Iterator[tuple[str, int]]:
    """A master and a one-core worker on loopback; both stopped (with their process groups) whatever happens."""
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_WORKER_DIR": str(work / "worker"),
           "SPARK_LOG_DIR": str(work / "logs")}
    port, web = free_port(), free_port()
    work.mkdir(parents=True, exist_ok=True)
    processes = []
    try:
        processes.append(subprocess.Popen(
            [str(spark_class), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(web)], env=env, stdout=(work / "master.log").open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True))
        _wait(lambda: answers("127.0.0.1", port), "the master did not answer")
        processes.append(subprocess.Popen(
            [str(spark_class), "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--cores", "1",
             "--memory", "2g", "--webui-port", str(free_port())], env=env,
            stdout=(work / "worker.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True))
        _wait(lambda: [w for w in _master_json(web)["workers"] if w["state"] == "ALIVE"], "no worker registered")
        yield f"spark://127.0.0.1:{port}", web
    finally:
        for process in reversed(processes):
            stop_tree(process, grace_s=10)


def _pipeline(home: Path, source: Path, remote: str) -> None:
    """Every layer of every batch of `source`, then the aggregate, on the engine at `remote`."""
    register_tiny(home, seed=1)  # the populated home's model
    spark = DeltaSparkResource(remote=remote)
    resources = {"tweet_home": TweetSentimentHome(home=str(home), source=str(source)), "pyspark": spark,
                 "delta_io_manager": DeltaSparkIOManager.for_home(spark, str(home)),
                 "mlflow_registry": MlflowRegistry(home=str(home))}
    defs = dg.Definitions(assets=ASSETS, jobs=[BATCH_JOB], resources=resources)
    with dg.instance_for_test() as instance:
        for key in register_batches(home, source, instance, max_files=1):
            assert defs.resolve_job_def("batch_pipeline").execute_in_process(partition_key=key,
                                                                            instance=instance).success
        assert dg.materialize(ASSETS, selection=[mention_sentiment], instance=instance, resources=resources).success


@pytest.mark.slow
def test_the_pipeline_on_a_standalone_cluster_equals_the_local_engine(populated: PopulatedHome, tmp_path, spark):
    """The session's populated home is the local engine's result: the same files and model (seed 1) on a cluster."""
    with standalone_cluster(tmp_path / "cluster") as (master, web):
        layout = HomeLayout.resolve(tmp_path / "on-cluster")
        state = start_engine(layout, master=master, watch_pid=os.getpid(), idle_minutes=0)
        try:
            _pipeline(layout.root, populated.source, state.url)
            (app,) = [a for a in _master_json(web)["activeapps"] if a["name"] == "tweet_sentiment-engine"]
            assert app["cores"] == 1  # the engine's work ran on the worker's one core
            for name, ignored in TABLES.items():
                local = spark.read.format("delta").load(str(populated.layout.table(name)))
                remote = spark.read.format("delta").load(str(layout.table(name)))
                local, remote = (_comparable(t, ignored) for t in (local, remote))
                assert local.count() == remote.count() > 0, name
                assert local.exceptAll(remote).count() == 0 and remote.exceptAll(local).count() == 0, name
        finally:
            stop_engine(layout)
