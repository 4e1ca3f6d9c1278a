"""Lakehouse tables from Spark: how SQL names them, their physical partitioning, and reads for reports (row counts,
quarantine reasons per batch)."""

from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.lakehouse.delta_log import latest_version, partition_columns
from tweet_sentiment.lakehouse.table_layout import BATCH_COLUMN

SOURCE_VERSION_KEY = "source_delta_version"
"""Metadata of an aggregate's materialization: the version of the table it was computed from (for healing)."""


def table_sql(path: Path) -> str:
    """`delta.\\`path\\`` for SQL; backticks in the path doubled, as Spark's identifier quoting wants."""
    return "delta.`" + str(path).replace("`", "``") + "`"


def partitioning(spark: SparkSession, path: Path) -> tuple[str, ...] | None:
    """The physical partition columns of the table at `path`, from its log where it says, else `DESCRIBE DETAIL`;
    None when there is no table."""
    if not table_exists(path):
        return None
    columns = partition_columns(path)
    if columns is None:
        columns = spark.sql(f"DESCRIBE DETAIL {table_sql(path)}").first()["partitionColumns"]
    return tuple(columns)


def table_exists(path: Path) -> bool:
    """Whether a Delta table has been committed at `path` (read from its log; no Spark call)."""
    return latest_version(path) is not None


def rows_per_batch(spark: SparkSession, path: Path, batches: Sequence[str]) -> int:
    """Rows of the given batches in a Delta table (0 when the table does not exist yet)."""
    if not batches or not table_exists(path):
        return 0
    return spark.read.format("delta").load(str(path)).where(F.col(BATCH_COLUMN).isin(list(batches))).count()


def quarantine_reasons(spark: SparkSession, path: Path, batches: Sequence[str]) -> list[tuple[str, str, int]]:
    """(layer, reason, rows) for the given batches, most frequent first."""
    if not batches or not table_exists(path):
        return []
    rows = (spark.read.format("delta").load(str(path)).where(F.col(BATCH_COLUMN).isin(list(batches)))
            .groupBy("layer", "reason").count().orderBy(F.desc("count"), "layer", "reason").collect())
    return [(row["layer"], row["reason"], int(row["count"])) for row in rows]


def read_pinned(spark: SparkSession, path: Path) -> tuple[DataFrame, int]:
    """The table at its newest version, and that version: an aggregate records exactly what it read."""
    version = latest_version(path)
    if version is None:
        raise FileNotFoundError(f"no Delta table at {path} yet: no batch has reached it")
    return spark.read.format("delta").option("versionAsOf", version).load(str(path)), version
