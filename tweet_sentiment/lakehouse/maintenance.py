"""Keeping Delta tables healthy over years of batches: compaction (OPTIMIZE, Z-ordered where it pays) and VACUUM of
files no version within the retention reads any more. SQL only, so it works over Spark Connect."""

import time
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import SparkSession

from tweet_sentiment.lakehouse.delta_log import latest_version

DEFAULT_RETENTION_HOURS = 168.0


class RetentionTooShortError(ValueError):
    """A VACUUM retention shorter than a run that may still be reading old versions."""


@dataclass(frozen=True)
class TableHealth:
    """Files and bytes of a table's current version."""

    files: int
    bytes: int


@dataclass(frozen=True)
class MaintenanceReport:
    """What maintenance did to one table."""

    table: str
    before: TableHealth
    after: TableHealth
    files_removed_by_vacuum: int
    seconds: float


def table_sql(path: Path) -> str:
    """`delta.\\`path\\`` for SQL; backticks in the path doubled, as Spark's identifier quoting wants."""
    return "delta.`" + str(path).replace("`", "``") + "`"


def health(spark: SparkSession, path: Path) -> TableHealth:
    """Number and size of the files the current version reads (`DESCRIBE DETAIL`)."""
    row = spark.sql(f"DESCRIBE DETAIL {table_sql(path)}").first()
    return TableHealth(int(row["numFiles"] or 0), int(row["sizeInBytes"] or 0))


def check_retention(hours: float, longest_reader_hours: float) -> None:
    """Refuse a retention that could delete files a run still reading has planned to read."""
    if hours < longest_reader_hours:
        raise RetentionTooShortError(
            f"a VACUUM retention of {hours:g} h is shorter than the run that has been going longest "
            f"({longest_reader_hours:.2f} h), which may still read files of older versions; use at least "
            f"{longest_reader_hours:.2f} h, or wait for it to finish")


def optimize(spark: SparkSession, path: Path, zorder_by: tuple[str, ...] = ()) -> None:
    """Compact the table's small files (within each physical partition), Z-ordered by `zorder_by` if given."""
    zorder = f" ZORDER BY ({', '.join(f'`{c}`' for c in zorder_by)})" if zorder_by else ""
    spark.sql(f"OPTIMIZE {table_sql(path)}{zorder}").collect()


def vacuum(spark: SparkSession, path: Path, hours: float) -> int:
    """Delete files no table version within the last `hours` reads; the number deleted."""
    if hours < DEFAULT_RETENTION_HOURS:
        # Delta refuses retentions under its default unless told that the caller checked (check_retention did).
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        rows = spark.sql(f"VACUUM {table_sql(path)} RETAIN {float(hours)} HOURS").collect()
    finally:
        spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")
    return len(rows)


def maintain_table(spark: SparkSession, path: Path, hours: float,
                   zorder_by: tuple[str, ...] = ()) -> MaintenanceReport | None:
    """OPTIMIZE then VACUUM one table; None when the table does not exist yet."""
    if latest_version(path) is None:
        return None
    started = time.perf_counter()
    before = health(spark, path)
    optimize(spark, path, zorder_by)
    removed = vacuum(spark, path, hours)
    return MaintenanceReport(path.name, before, health(spark, path), removed, time.perf_counter() - started)
