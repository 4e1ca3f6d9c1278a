"""Shared fixtures: one engine (a Spark Connect server) for the whole test session, a temporary home per test."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psutil
import pytest
from pyspark.sql import SparkSession

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TWEET_SENTIMENT_SPARK_DRIVER_MEMORY", "2g")
# A runner that starts pytest with SIGTERM ignored passes that on to every process the tests start: servers would
# then outlive their stop until the kill timeout, and multiprocessing pools would hang in terminate().
signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind(tmp_path_factory) -> Iterator[None]:
    """After the whole session (its engine stopped last of all), no process the tests started may still run: a JVM
    or server of a test home names that home, under the session's temporary folder, in its command line."""
    yield
    base = str(tmp_path_factory.getbasetemp())
    ours = {os.getpid(), *(p.pid for p in psutil.Process().parents())}  # this session and what started it
    deadline, left = time.monotonic() + 30, []
    while time.monotonic() < deadline:
        left = [p for p in psutil.process_iter(["pid", "cmdline"])
                if p.info["cmdline"] and any(base in part for part in p.info["cmdline"]) and p.pid not in ours]
        if not left:
            return
        time.sleep(0.5)
    for process in left:
        process.kill()
    raise AssertionError("processes left behind by the tests (now killed): "
                         + "; ".join(" ".join(p.info["cmdline"])[:200] for p in left))


@pytest.fixture(scope="session")
def engine_url(tmp_path_factory) -> str:
    """One engine on local[2] for the whole session, stopped at the end; it also stops if this process dies. Child
    processes (the CLI in subprocess tests) use it too, through TWEET_SENTIMENT_SPARK_REMOTE."""
    from tweet_sentiment.engine.client import REMOTE_ENV_VAR
    from tweet_sentiment.engine.server import start_engine, stop_engine
    from tweet_sentiment.settings import HomeLayout

    layout = HomeLayout.resolve(tmp_path_factory.mktemp("engine-home"))
    state = start_engine(layout, master="local[2]", watch_pid=os.getpid(), idle_minutes=0)
    os.environ[REMOTE_ENV_VAR] = state.url
    yield state.url
    os.environ.pop(REMOTE_ENV_VAR, None)
    stop_engine(layout)


@pytest.fixture(scope="session")
def spark_resource(engine_url):
    """The project's Spark resource on the session's engine."""
    from tweet_sentiment.defs.resources import DeltaSparkResource

    return DeltaSparkResource(remote=engine_url)


@pytest.fixture(scope="session")
def spark(spark_resource) -> SparkSession:
    session = spark_resource.spark_session
    yield session
    session.stop()  # closes the channel before the engine stops (the shared session is not released)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    path = tmp_path / "source"
    path.mkdir()
    return path


@pytest.fixture
def resources(home: Path, source_dir: Path, spark_resource) -> dict:
    """The code location's resources on a temporary home, sharing the session's Spark."""
    from tweet_sentiment.defs.resources import DeltaSparkIOManager, TweetSentimentHome

    return {
        "tweet_home": TweetSentimentHome(home=str(home), source=str(source_dir), max_files_per_batch=2),
        "pyspark": spark_resource,
        "delta_io_manager": DeltaSparkIOManager.for_home(spark_resource, str(home)),
    }


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture(scope="session")
def populated(tmp_path_factory, spark_resource, spark):
    """One home through the whole pipeline (two batches, both quarantines, gold, the aggregates, an MLflow
    evaluation), built once; the tests that share it only read it."""
    from tweet_sentiment.defs.model import MlflowRegistry
    from tweet_sentiment.defs.resources import DeltaSparkIOManager, TweetSentimentHome
    from tweet_sentiment_tests.populated_home import populate

    root = tmp_path_factory.mktemp("populated")
    home, source = root / "home", root / "source"
    resources = {"tweet_home": TweetSentimentHome(home=str(home), source=str(source), max_files_per_batch=2),
                 "pyspark": spark_resource, "delta_io_manager": DeltaSparkIOManager.for_home(spark_resource, str(home)),
                 "mlflow_registry": MlflowRegistry(home=str(home))}
    with dg.instance_for_test() as instance:
        yield populate(home, source, resources, instance, root / "model")
