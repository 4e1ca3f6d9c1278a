"""Shared fixtures: one Spark session for the whole test session, a temporary home per test."""

import os
from pathlib import Path

import dagster as dg
import pytest
from pyspark.sql import SparkSession

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TWEET_SENTIMENT_SPARK_DRIVER_MEMORY", "2g")


@pytest.fixture(scope="session")
def spark_resource():
    """The project's Spark resource on local[2]; every test reuses its session."""
    from tweet_sentiment.defs.resources import DeltaSparkResource

    return DeltaSparkResource(master="local[2]")


@pytest.fixture(scope="session")
def spark(spark_resource) -> SparkSession:
    session = spark_resource.spark_session
    session.sparkContext.setLogLevel("ERROR")
    return session


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
