"""The Spark settings for Delta Lake that the engine (the Spark Connect server) starts with."""

import hashlib
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


def _jar_list_file(packages: str) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tweet_sentiment"
    return cache / f"delta-jars-{hashlib.sha256(packages.encode()).hexdigest()[:16]}.txt"


def resolved_delta_jars(packages: str) -> str | None:
    """The local JARs an earlier session resolved for `packages`, if all still exist (skips Ivy, ~3 s a start)."""
    listing = _jar_list_file(packages)
    jars = listing.read_text().split(",") if listing.is_file() else []
    if not jars or not all(Path(jar.removeprefix("file://")).is_file() for jar in jars):
        return None
    return ",".join(jars)


def remember_delta_jars(jars: str, packages: str) -> None:
    """Record the JARs Ivy resolved for `packages` (a session's `spark.jars`), so later starts load them directly."""
    if jars and all(jar.startswith("file:") for jar in jars.split(",")):
        listing = _jar_list_file(packages)
        listing.parent.mkdir(parents=True, exist_ok=True)
        listing.with_suffix(".tmp").write_text(jars)
        listing.with_suffix(".tmp").replace(listing)


def delta_spark_config(master: str | None = None, scratch: Path | None = None) -> dict[str, str]:
    """Settings for one Spark session with Delta Lake, tuned for small batches on a few cores."""
    config = {
        "spark.master": master or os.environ.get(MASTER_ENV_VAR) or DEFAULT_MASTER,
        "spark.app.name": "tweet_sentiment",
        **_delta_jars_setting(),
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
        # VACUUM lists a table's files in this many tasks: Spark's default of 10,000 made each VACUUM a minute of
        # empty tasks on two cores, whatever the table's size.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "8",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.databricks.delta.snapshotPartitions": "2",
        # Off: it adds a shuffle before every write, and a batch already arrives in a handful of partitions.
        "spark.databricks.delta.optimizeWrite.enabled": "false",
        "spark.driver.memory": os.environ.get("TWEET_SENTIMENT_SPARK_DRIVER_MEMORY", "4g"),
    }
    if scratch is not None:
        config["spark.local.dir"] = str(scratch)
        config["spark.sql.warehouse.dir"] = str(scratch / "warehouse")
    return config


def _delta_jars_setting() -> dict[str, str]:
    """`spark.jars` with the JARs resolved before, else `spark.jars.packages` for Ivy to resolve."""
    packages = delta_packages()
    jars = resolved_delta_jars(packages)
    return {"spark.jars": jars} if jars else {"spark.jars.packages": packages}
