"""Keeping the mention aggregates up to date with gold at a cost that follows the change, not the history.

1. Partials (`mention_sentiment_partials`, one Dagster partition per batch, change feed on) are brought up to date
   with gold: the batches gold changed since the aggregates' last update are read from gold's Delta log (partition
   values or file statistics), or from gold's change feed where the log cannot tell, and those whose partial is
   older than their gold data (a re-score by a job that did not refresh it) are recomputed.
2. Each aggregate (`mention_sentiment` per mention, `mention_sentiment_daily` per mention and day) is updated from
   the partials' change feed since the partials version its own last commit recorded, with one MERGE; it is rebuilt
   whole from the partials when that record or the feed is not there (first build, vacuumed feed).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.engine.sessions import local_checkpoint
from tweet_sentiment.lakehouse.aggregates import (
    AggregateState,
    changes,
    merge_increments,
    merge_updates,
    overwrite,
    read_state,
)
from tweet_sentiment.lakehouse.delta_log import latest_version, live_files, partitions_changed, removes_data
from tweet_sentiment.lakehouse.partition_writer import PartitionWriter, table_lock
from tweet_sentiment.lakehouse.table_layout import (
    BATCH_COLUMN,
    CHANGE_FEED,
    INGEST_DATE,
    may_hold,
    single_value,
    value_range,
)
from tweet_sentiment.lakehouse.table_names import DAILY_TABLE, GOLD_TABLE, PARTIALS_TABLE, TOTALS_TABLE
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment.transforms.mention_aggregates import (
    COUNT_COLUMNS,
    DAILY_COLUMNS,
    DELETED,
    INSERTED,
    TOTAL_COLUMNS,
    daily_from_partials,
    daily_increments,
    mention_day_partials,
    totals_from_partials,
    totals_increments,
    totals_updates,
)

log = logging.getLogger(__name__)



@dataclass
class MentionUpdate:
    """What one update did: per aggregate table `incremental`, `rebuilt` or `unchanged`, and the batches whose
    partials were recomputed (None: all of them)."""

    gold_version: int
    partials_version: int
    modes: dict[str, str] = field(default_factory=dict)
    partials_recomputed: list[str] | None = field(default_factory=list)


def _read(spark: SparkSession, path: Path, version: int | None = None) -> DataFrame:
    reader = spark.read.format("delta")
    return (reader.option("versionAsOf", version) if version is not None else reader).load(str(path))


def stale_partials(spark: SparkSession, layout: HomeLayout, gold_version: int,
                   since_gold: int | None) -> list[str] | None:
    """Batches whose partial is older than their gold data, among those gold changed after `since_gold`; None when
    every batch must be recomputed (no partials yet, no record, or gold's log no longer covers the range)."""
    partials_path = layout.table(PARTIALS_TABLE)
    if since_gold is None or latest_version(partials_path) is None:
        return None
    changed = partitions_changed(layout.table(GOLD_TABLE), BATCH_COLUMN, since_gold, gold_version)
    if changed is None:
        changed = _batches_changed_in_feed(spark, layout.table(GOLD_TABLE), since_gold, gold_version)
    if changed is None:
        return None
    if not changed:
        return []
    computed = partial_gold_versions(partials_path, list(changed))
    if computed is None:
        rows = (_read(spark, partials_path).where(F.col(BATCH_COLUMN).isin(list(changed)))
                .groupBy(BATCH_COLUMN).agg(F.max("gold_version").alias("v")).collect())
        computed = {r[BATCH_COLUMN]: int(r["v"]) for r in rows}
    return sorted(b for b, version in changed.items() if computed.get(b, -1) < version)


def partial_gold_versions(partials: Path, wanted: list[str]) -> dict[str, int] | None:
    """Batch -> newest gold version its partial was computed from, for the `wanted` batches that have one, read
    from the statistics of the partials' live files (no Spark job: 0.3-0.8 s saved per update); None when a file
    that may hold a wanted batch holds others too (compacted) or the log lists no files or statistics."""
    version = latest_version(partials)
    files = live_files(partials, version) if version is not None else None
    if files is None:
        return None
    newest: dict[str, int] = {}
    for add in files:
        if not any(may_hold(add, {BATCH_COLUMN: b}) for b in wanted):
            continue
        batch, versions = single_value(add, BATCH_COLUMN), value_range(add, "gold_version")
        if batch is None or versions is None:
            return None
        newest[batch] = max(newest.get(batch, -1), int(versions[1]))
    return newest


def _batches_changed_in_feed(spark: SparkSession, gold: Path, after: int, upto: int) -> dict[str, int] | None:
    """Batch -> newest version in (`after`, `upto`] whose change feed inserted or deleted rows of it: the exact
    answer where the log's file statistics cannot tell (a re-run's removed files, a file of several batches); None
    when the feed does not cover the range (turned on later, or vacuumed)."""
    try:
        rows = (changes(spark, gold, after, upto).where(F.col("_change_type").isin(*INSERTED, *DELETED))
                .groupBy(BATCH_COLUMN).agg(F.max("_commit_version").alias("v")).collect())
    except PySparkException as error:
        log.warning("the change feed of %s versions %s-%s is not readable (%s): recomputing every partial",
                    gold, after + 1, upto, str(error).splitlines()[0])
        return None
    return {r[BATCH_COLUMN]: int(r["v"]) for r in rows}


def refresh_partials(spark: SparkSession, layout: HomeLayout, gold_version: int, since_gold: int | None,
                     on_wait: Callable[[str], None] | None = None) -> list[str] | None:
    """Recompute the stale partials from gold at `gold_version`; the batches recomputed, None for all of them."""
    with table_lock(layout.locks, PARTIALS_TABLE, "mention_sentiment bringing partials up to date", on_wait):
        stale = stale_partials(spark, layout, gold_version, since_gold)
        if stale == []:
            return []
        gold = _read(spark, layout.table(GOLD_TABLE), gold_version)
        if stale is not None:
            gold = gold.where(F.col(BATCH_COLUMN).isin(stale))
        partials = mention_day_partials(gold, gold_version, carry=[c for c in (INGEST_DATE,) if c in gold.columns])
        what = f"{len(stale)} batches" if stale is not None else "all batches"
        PartitionWriter(spark).replace_partitions(partials, layout.table(PARTIALS_TABLE), BATCH_COLUMN, stale,
                                                  f"mention_sentiment: partials of {what} from gold v{gold_version}",
                                                  CHANGE_FEED)
        return stale


def _changes_or_none(spark: SparkSession, path: Path, after: int, upto: int) -> DataFrame | None:
    """The partials' changes, materialized now; None when the feed does not cover the range (vacuumed, or the
    feed was off), so the caller rebuilds instead."""
    try:
        return local_checkpoint(changes(spark, path, after, upto))
    except PySparkException as error:
        log.warning("the change feed of %s versions %s-%s is not readable (%s): rebuilding the aggregates",
                    path, after + 1, upto, str(error).splitlines()[0])
        return None


def update_aggregate(spark: SparkSession, layout: HomeLayout, table: str, state: AggregateState) -> str:
    """Bring one aggregate table to the partials at `state.partials_version`: incremental, rebuilt or unchanged."""
    path, partials_path = layout.table(table), layout.table(PARTIALS_TABLE)
    recorded = read_state(path)
    if recorded is not None and recorded.partials_version == state.partials_version:
        return "unchanged"
    partials = _read(spark, partials_path, state.partials_version)
    feed = None
    if recorded is not None and recorded.partials_version < state.partials_version:
        feed = _changes_or_none(spark, partials_path, recorded.partials_version, state.partials_version)
    if feed is None:
        if table == TOTALS_TABLE:
            # One file in total order: readers see it most mentioned first until the first incremental update.
            rebuilt = totals_from_partials(partials).orderBy(F.desc("total"), F.asc("mention")).coalesce(1)
        else:
            rebuilt = daily_from_partials(partials).orderBy("mention", "day")
        columns = TOTAL_COLUMNS if table == TOTALS_TABLE else DAILY_COLUMNS
        overwrite(rebuilt.select(*columns), path, state.user_metadata())
        return "rebuilt"
    if table == DAILY_TABLE:
        merge_increments(spark, path, daily_increments(feed).select(*DAILY_COLUMNS), ["mention", "day"],
                         COUNT_COLUMNS, state.user_metadata())
    elif removes_data(partials_path, recorded.partials_version, state.partials_version) is False:
        # A new batch only inserts partials: counts add up and first and last tweet move outward, in the MERGE.
        merge_increments(spark, path, totals_increments(feed), ["mention"], COUNT_COLUMNS, state.user_metadata(),
                         earliest=["min_timestamp"], latest=["max_timestamp"])
    else:
        # A batch replaced: mentions that lost rows get first and last tweet from the partials that remain.
        updates = totals_updates(_read(spark, path), feed, partials).select(*TOTAL_COLUMNS)
        merge_updates(spark, path, local_checkpoint(updates), ["mention"], state.user_metadata())
    return "incremental"


def update_mention_tables(spark: SparkSession, layout: HomeLayout,
                          on_wait: Callable[[str], None] | None = None) -> MentionUpdate:
    """Partials, totals and daily totals up to date with gold's newest version, under the aggregate's lock (one
    update at a time; the partials' own lock is taken inside it, as their writers take it)."""
    gold_version = latest_version(layout.table(GOLD_TABLE))
    if gold_version is None:
        raise FileNotFoundError(f"no Delta table at {layout.table(GOLD_TABLE)} yet: no batch has reached gold")
    with (table_lock(layout.locks, TOTALS_TABLE, "mention_sentiment update", on_wait),
          table_lock(layout.locks, DAILY_TABLE, "mention_sentiment update", on_wait)):
        recorded = [read_state(layout.table(t)) for t in (TOTALS_TABLE, DAILY_TABLE)]
        partials_now = latest_version(layout.table(PARTIALS_TABLE))
        # No record, or partials older than recorded (the table was recreated): recompute every partial.
        since = None if None in recorded or partials_now is None or any(
            s.partials_version > partials_now for s in recorded) else min(s.gold_version for s in recorded)
        recomputed = refresh_partials(spark, layout, gold_version, since, on_wait)
        partials_version = latest_version(layout.table(PARTIALS_TABLE))
        if partials_version is None:
            raise RuntimeError(f"{layout.table(PARTIALS_TABLE)} was not created from gold version {gold_version}")
        state = AggregateState(partials_version, gold_version)
        modes = {t: update_aggregate(spark, layout, t, state) for t in (TOTALS_TABLE, DAILY_TABLE)}
    return MentionUpdate(gold_version, partials_version, modes, recomputed)
