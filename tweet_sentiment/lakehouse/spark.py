"""The Spark session settings for Delta Lake, shared by the Dagster resource, the CLI and the tests."""

import os
from pathlib import Path

from delta.pip_utils import configure_spark_with_delta_pip
from pyspark.sql import SparkSession

MASTER_ENV_VAR = "TWEET_SENTIMENT_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"


def delta_packages() -> str:
    """The Maven coordinates of the delta-spark JARs matching the installed delta-spark and pyspark."""
    builder = configure_spark_with_delta_pip(SparkSession.builder)
    return builder._options["spark.jars.packages"]  # delta computes the artifact name for this Spark version


def delta_spark_config(master: str | None = None, scratch: Path | None = None) -> dict[str, str]:
    """Settings for one Spark session with Delta Lake, tuned for small batches on a few cores."""
    config = {
        "spark.master": master or os.environ.get(MASTER_ENV_VAR) or DEFAULT_MASTER,
        "spark.app.name": "tweet_sentiment",
        "spark.jars.packages": delta_packages(),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # Tables are addressed by path; no Hive metastore or Derby files.
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Batches are small: 200 shuffle partitions would mean 200 tiny tasks and files.
        "spark.sql.shuffle.partitions": "8",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.default.parallelism": "4",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.databricks.delta.optimizeWrite.enabled": "true",
        "spark.driver.memory": os.environ.get("TWEET_SENTIMENT_SPARK_DRIVER_MEMORY", "4g"),
    }
    if scratch is not None:
        config["spark.local.dir"] = str(scratch)
        config["spark.sql.warehouse.dir"] = str(scratch / "warehouse")
    return config

