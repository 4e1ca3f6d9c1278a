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
from tweet_sentiment.landing.manifest import Manifest
from tweet_sentiment.settings import ALLOW_OVERWRITES_ENV_VAR, HomeLayout


class TweetSentimentHome(dg.ConfigurableResource):
    """The home folder and the watched source folder; empty means $TWEET_SENTIMENT_HOME / ~/.tweet_sentiment."""

    home: str | None = None
    source: str | None = None
    max_files_per_batch: int = 100
    max_bytes_per_batch: int = 256 * 1024 * 1024
    allow_overwrites: bool = False
    """A file that changes after it was ingested is re-ingested, its new version replacing its earlier rows (as
    Auto Loader's cloudFiles.allowOverwrites). Off: the change is reported and not ingested."""

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


def allow_overwrites_from_env() -> bool:
    return os.environ.get(ALLOW_OVERWRITES_ENV_VAR, "").lower() in ("1", "true", "yes", "on")


def build_resources(home: str | None = None, source: str | None = None) -> dict[str, Any]:
    """The resources of the code location; tests pass a temporary home."""
    spark = DeltaSparkResource()
    return {
        "tweet_home": TweetSentimentHome(home=home, source=source, allow_overwrites=allow_overwrites_from_env()),
        "pyspark": spark,
        "delta_io_manager": DeltaSparkIOManager.for_home(spark, home),
    }


@dg.definitions
def resources() -> dg.Definitions:
    # Every run in one process: its steps share one Spark session, and RunGuard sees the run's own process.
    return dg.Definitions(resources=build_resources(), executor=dg.in_process_executor)
