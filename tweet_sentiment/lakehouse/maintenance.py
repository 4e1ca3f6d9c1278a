"""Keeping Delta tables healthy over years of batches: compaction (OPTIMIZE, Z-ordered where it pays) and VACUUM of
files no version within the retention reads any more. SQL and `format("delta")` only, so it works over Spark Connect.
A table of an older home, partitioned by batch, is first rewritten by ingest date (docs/layout.md), rows unchanged.

Each table is maintained holding the same per-table lock every writer of that table holds (the Delta IO manager, the
mention aggregates), so a compaction never interleaves with a batch's "is this partition new?" check and its write.
Readers need no lock: OPTIMIZE changes no data and removes files only from the newest version, and VACUUM keeps
every file a version within the retention reads, which is refused shorter than the longest run now in progress.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.lakehouse.delta_log import LOG_DIR, latest_version
from tweet_sentiment.lakehouse.interop import repair_collated_strings
from tweet_sentiment.lakehouse.partition_writer import table_lock
from tweet_sentiment.lakehouse.table_layout import (
    BATCH_COLUMN,
    CHANGE_FEED,
    DEFAULT_LAYOUT,
    INGEST_DATE,
    ingest_date_of,
)
from tweet_sentiment.lakehouse.table_names import DAILY_TABLE, GOLD_TABLE, PARTIALS_TABLE, TOTALS_TABLE
from tweet_sentiment.lakehouse.tables import partitioning, table_sql
from tweet_sentiment.settings import HomeLayout

DEFAULT_RETENTION_HOURS = 168.0
MIGRATION_NOTE = "tweet-sentiment maintain: rewritten by ingest date (docs/layout.md)"
ZORDER_BY = {TOTALS_TABLE: ("mention",), DAILY_TABLE: ("mention",)}
"""Z-ordering rewrites every file of a partition each time, so it is kept to the unpartitioned aggregates, which
readers filter by mention (top mentions, trend lines); per-batch tables are only bin-packed, which skips partitions
that are already one file, so the cost follows what changed since the last run."""


CHANGE_FEED_TABLES = frozenset({GOLD_TABLE, PARTIALS_TABLE})
"""Tables whose change feed the aggregates read; a migrated table gets it turned on."""


class RetentionTooShortError(ValueError):
    """A VACUUM retention shorter than a run that may still be reading old versions."""


@dataclass(frozen=True)
class TableHealth:
    """Files and bytes: those the current version reads (live), and the data files on disk (live or not)."""

    files: int
    bytes: int
    disk_files: int
    disk_bytes: int


@dataclass(frozen=True)
class MaintenanceReport:
    """What maintenance did to one table."""

    table: str
    before: TableHealth
    after: TableHealth
    seconds: float
    zorder_by: tuple[str, ...] = ()
    migrated: bool = False
    repaired: tuple[str, ...] = ()
    """Collated string columns rewritten as plain strings (lakehouse/interop.py)."""

    def as_row(self) -> dict[str, object]:
        return {"table": self.table, "files_before": self.before.files, "files_after": self.after.files,
                "bytes_before": self.before.bytes, "bytes_after": self.after.bytes,
                "disk_files_before": self.before.disk_files, "disk_files_after": self.after.disk_files,
                "disk_bytes_before": self.before.disk_bytes, "disk_bytes_after": self.after.disk_bytes,
                "seconds": round(self.seconds, 2), "zorder_by": ",".join(self.zorder_by), "migrated": self.migrated,
                "repaired": ",".join(self.repaired)}


def disk_usage(path: Path) -> tuple[int, int]:
    """Data files (and bytes) under the table folder, the log left out: what VACUUM can shrink."""
    files = size = 0
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if d != LOG_DIR]
        for name in names:
            if name.endswith(".parquet"):
                files += 1
                size += os.path.getsize(os.path.join(folder, name))
    return files, size


def health(spark: SparkSession, path: Path) -> TableHealth:
    """Number and size of the files the current version reads (`DESCRIBE DETAIL`) and of those on disk."""
    row = spark.sql(f"DESCRIBE DETAIL {table_sql(path)}").first()
    return TableHealth(int(row["numFiles"] or 0), int(row["sizeInBytes"] or 0), *disk_usage(path))


def check_retention(hours: float, longest_reader_hours: float) -> None:
    """Refuse a retention that could delete files a run still reading has planned to read."""
    if hours < 0:
        raise RetentionTooShortError(f"a VACUUM retention of {hours:g} h is negative")
    if hours < longest_reader_hours:
        raise RetentionTooShortError(
            f"a VACUUM retention of {hours:g} h is shorter than the run that has been going longest "
            f"({longest_reader_hours:.2f} h), which may still read files of older versions; use at least "
            f"{longest_reader_hours:.2f} h, or wait for it to finish")


def optimize(spark: SparkSession, path: Path, zorder_by: tuple[str, ...] = ()) -> None:
    """Compact the table's small files (within each physical partition), Z-ordered by `zorder_by` if given."""
    zorder = f" ZORDER BY ({', '.join(f'`{c}`' for c in zorder_by)})" if zorder_by else ""
    spark.sql(f"OPTIMIZE {table_sql(path)}{zorder}").collect()


def ingest_date_column(batch: Column) -> Column:
    """`ingest_date` from a batch key, as `ingest_date_of` computes it: the key's creation day, else today."""
    day = F.try_to_date(F.regexp_extract(batch, r"^b(\d{8})T", 1), F.lit("yyyyMMdd"))
    return F.coalesce(F.date_format(day, "yyyy-MM-dd"), F.lit(ingest_date_of("")))


def migrate_to_date_layout(spark: SparkSession, path: Path, change_feed: bool) -> bool:
    """Rewrite a table partitioned by batch (an older home's layout) by ingest date, in one commit that changes no
    row but adds `ingest_date`; False when the table has that layout already."""
    layout = partitioning(spark, path)
    if layout is None or BATCH_COLUMN not in layout:
        return False
    if change_feed:
        # Before the rewrite: a run killed between the two steps leaves the old layout, which the next maintain
        # migrates again, never a migrated table without its feed.
        properties = ", ".join(f"'{k}' = '{v}'" for k, v in CHANGE_FEED.items())
        spark.sql(f"ALTER TABLE {table_sql(path)} SET TBLPROPERTIES ({properties})").collect()
    current = spark.read.format("delta").option("versionAsOf", latest_version(path)).load(str(path))
    (current.withColumn(INGEST_DATE, ingest_date_column(F.col(BATCH_COLUMN))).write.format("delta")
     .mode("overwrite").option("overwriteSchema", "true").option("userMetadata", MIGRATION_NOTE)
     .partitionBy(*DEFAULT_LAYOUT).save(str(path)))
    return True


def vacuum(spark: SparkSession, path: Path, hours: float) -> None:
    """Delete files no table version within the last `hours` reads."""
    if hours < DEFAULT_RETENTION_HOURS:
        # Delta refuses retentions under its default unless told that the caller checked (check_retention did).
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    try:
        spark.sql(f"VACUUM {table_sql(path)} RETAIN {float(hours)} HOURS").collect()
    finally:
        spark.conf.unset("spark.databricks.delta.retentionDurationCheck.enabled")


def lakehouse_tables(layout: HomeLayout) -> list[str]:
    """The Delta tables of a home (folders of the lakehouse with a log), by name."""
    if not layout.lakehouse.is_dir():
        return []
    return sorted(p.name for p in layout.lakehouse.iterdir() if latest_version(p) is not None)


def maintain_table(spark: SparkSession, layout: HomeLayout, table: str, hours: float,
                   on_wait: Callable[[str], None] | None = None) -> MaintenanceReport | None:
    """Migrate an older layout, repair collated strings, OPTIMIZE, then VACUUM one table under its writers' lock;
    None when the table does not exist (yet)."""
    path = layout.table(table)
    if latest_version(path) is None:
        return None
    zorder = ZORDER_BY.get(table, ())
    with table_lock(layout.locks, table, f"maintenance of {table}", on_wait):
        started = time.perf_counter()
        before = health(spark, path)
        migrated = migrate_to_date_layout(spark, path, table in CHANGE_FEED_TABLES)
        repaired = tuple(repair_collated_strings(spark, path))
        optimize(spark, path, zorder)
        vacuum(spark, path, hours)
        after = health(spark, path)
    return MaintenanceReport(table, before, after, time.perf_counter() - started, zorder, migrated, repaired)


def maintain_lakehouse(spark: SparkSession, layout: HomeLayout, hours: float, longest_reader_hours: float,
                       on_table: Callable[[MaintenanceReport], None] | None = None,
                       on_wait: Callable[[str], None] | None = None) -> list[MaintenanceReport]:
    """Every table of the home, one at a time (a batch waits at most for one table's compaction)."""
    check_retention(hours, longest_reader_hours)
    reports = []
    for table in lakehouse_tables(layout):
        report = maintain_table(spark, layout, table, hours, on_wait)
        if report is not None:
            reports.append(report)
            if on_table is not None:
                on_table(report)
    return reports
