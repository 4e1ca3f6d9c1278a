"""Resources shared by the graph: the home folder, Spark with Delta Lake, and the Delta IO manager."""

import os
import sys
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from dagster_pyspark.resources import spark_session_from_config

from tweet_sentiment.lakehouse.delta_io_manager import DeltaSparkIOManager
from tweet_sentiment.lakehouse.spark import delta_spark_config, remember_delta_jars
from tweet_sentiment.manifest import Manifest
from tweet_sentiment.settings import HomeLayout


class TweetSentimentHome(dg.ConfigurableResource):
    """The home folder and the watched source folder; empty means $TWEET_SENTIMENT_HOME / ~/.tweet_sentiment."""

    home: str | None = None
    source: str | None = None
    max_files_per_batch: int = 100
    max_bytes_per_batch: int = 256 * 1024 * 1024

    @property
    def layout(self) -> HomeLayout:
        return HomeLayout.resolve(self.home)

    @property
    def source_dir(self) -> Path:
        return self.layout.source_dir(self.source)

    def manifest(self) -> Manifest:
        return Manifest(self.layout.manifest)


class DeltaSparkResource(LazyPySparkResource):
    """dagster-pyspark's lazy session with Delta Lake configured; `master` defaults to local[*]."""

    spark_config: dict[str, Any] = {}
    master: str | None = None

    def _init_session(self) -> None:
        if self._spark_session is None:
            # Python UDF workers (gold's model) must run this interpreter, not the system python3.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            config = {**delta_spark_config(self.master), **self.spark_config}
            self._spark_session = spark_session_from_config(config)
            if "spark.jars.packages" in config:
                remember_delta_jars(self._spark_session, config["spark.jars.packages"])


def build_resources(home: str | None = None, source: str | None = None) -> dict[str, Any]:
    """The resources of the code location; tests pass a temporary home."""
    spark = DeltaSparkResource()
    return {
        "tweet_home": TweetSentimentHome(home=home, source=source),
        "pyspark": spark,
        "delta_io_manager": DeltaSparkIOManager(pyspark=spark, home=home),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
