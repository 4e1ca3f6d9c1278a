"""The application aggregates, built incrementally: per batch a small partial (mention x day), and totals per mention
and per (mention, day) updated from the partials' changes, so a batch's cost does not grow with the history.

Counts are additive, so a change (rows inserted and deleted in the partials: a new batch, or a batch re-run or
re-scored) is applied by adding signed counts. First and last tweet are not: a mention that lost partial rows has its
min/max recomputed from the partials that remain, for that mention only.
"""

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

COUNTS = {"negative": "NEG", "neutral": "NEU", "positive": "POS"}
COUNT_COLUMNS = (*COUNTS, "total")
PARTIAL_COLUMNS = ("batch", "mention", "day", "min_timestamp", "max_timestamp", *COUNT_COLUMNS, "gold_version")
TOTAL_COLUMNS = ("mention", "min_timestamp", "max_timestamp", *COUNT_COLUMNS)
DAILY_COLUMNS = ("mention", "day", *COUNT_COLUMNS)
INSERTED = ("insert", "update_postimage")
DELETED = ("delete", "update_preimage")


def _count_of(label: str) -> Column:
    return F.sum((F.col("predicted_sentiment") == label).cast("long"))


def mention_day_partials(gold: DataFrame, gold_version: int, carry: Sequence[str] = ()) -> DataFrame:
    """Each batch's contribution: per (batch, mention, UTC day) its first and last tweet and predicted counts,
    stamped with the gold version they were computed from (so a partial older than its gold batch is found). The
    `carry` columns of gold (constant per batch: a storage column) are kept, so a batch's partials sit where its gold
    rows do."""
    counts = [F.coalesce(_count_of(label), F.lit(0)).alias(name) for name, label in COUNTS.items()]
    storage = list(carry)
    return gold.groupBy("batch", "mention", F.to_date("timestamp").alias("day"), *storage).agg(
        F.min("timestamp").alias("min_timestamp"), F.max("timestamp").alias("max_timestamp"), *counts,
        F.count(F.lit(1)).alias("total")).select(
        *PARTIAL_COLUMNS[:-1], F.lit(gold_version).cast("long").alias("gold_version"), *storage)


def totals_from_partials(partials: DataFrame) -> DataFrame:
    """Per mention over the given partials: first and last tweet, summed counts (a full rebuild)."""
    return partials.groupBy("mention").agg(
        F.min("min_timestamp").alias("min_timestamp"), F.max("max_timestamp").alias("max_timestamp"),
        *[F.sum(c).cast("long").alias(c) for c in COUNT_COLUMNS])


def daily_from_partials(partials: DataFrame) -> DataFrame:
    """Per (mention, day) over the given partials: summed counts (a full rebuild)."""
    return partials.groupBy("mention", "day").agg(*[F.sum(c).cast("long").alias(c) for c in COUNT_COLUMNS])


def _signed(changes: DataFrame) -> DataFrame:
    """Change-feed rows with their counts negated where the row left the partials."""
    sign = F.when(F.col("_change_type").isin(*DELETED), F.lit(-1)).otherwise(F.lit(1))
    return changes.where(F.col("_change_type").isin(*INSERTED, *DELETED)).select(
        "mention", "day", "min_timestamp", "max_timestamp", "_change_type",
        *[(F.col(c) * sign).alias(c) for c in COUNT_COLUMNS])


def _joined_and_summed_counts(current: DataFrame, delta: DataFrame,
                              keys: list[str]) -> tuple[DataFrame, list[Column]]:
    """(`current` full-outer-joined with `delta` on `keys` as `o` and `d`, the summed count columns)."""
    affected = current.alias("o").join(delta.select(*keys).alias("k"), on=keys, how="left_semi").alias("o")
    joined = affected.join(delta.alias("d"), on=keys, how="full_outer")
    counts = [(F.coalesce(F.col(f"o.{c}"), F.lit(0)) + F.coalesce(F.col(f"d.{c}"), F.lit(0))).cast("long").alias(c)
              for c in COUNT_COLUMNS]
    return joined, counts


def daily_increments(changes: DataFrame) -> DataFrame:
    """What the partials' changes add to each (mention, day) they touched: signed counts (a total that reaches 0
    means the row goes)."""
    return _signed(changes).groupBy("mention", "day").agg(*[F.sum(c).cast("long").alias(c) for c in COUNT_COLUMNS])


def totals_increments(changes: DataFrame) -> DataFrame:
    """What the partials' inserted rows add to each mention: counts, and a first and last tweet that can only move
    the mention's outward. Only for changes that removed nothing (a new batch): removed rows are not subtracted."""
    return totals_from_partials(changes.where(F.col("_change_type").isin(*INSERTED))).select(*TOTAL_COLUMNS)


def totals_updates(totals: DataFrame, changes: DataFrame, partials: DataFrame) -> DataFrame:
    """The new rows of every mention the partials' changes touched; a total of 0 means the row goes. `partials` is
    the partials table as of the changes' last version; it is read only for mentions that lost rows, whose first
    and last tweet may have moved inward."""
    signed = _signed(changes)
    delta = signed.groupBy("mention").agg(
        *[F.sum(c).alias(c) for c in COUNT_COLUMNS],
        F.min(F.when(F.col("_change_type").isin(*INSERTED), F.col("min_timestamp"))).alias("added_min"),
        F.max(F.when(F.col("_change_type").isin(*INSERTED), F.col("max_timestamp"))).alias("added_max"))
    joined, counts = _joined_and_summed_counts(totals, delta, ["mention"])
    shrunk = signed.where(F.col("_change_type").isin(*DELETED)).select("mention").distinct()
    # Every mention that lost rows, with its first and last tweet over the partials left (NULL when none are).
    recomputed = shrunk.join(totals_from_partials(partials.join(shrunk, "mention", "left_semi")), "mention",
                             "left").select("mention", F.lit(True).alias("shrank"),
                                            F.col("min_timestamp").alias("new_min"),
                                            F.col("max_timestamp").alias("new_max"))
    joined = joined.join(recomputed.alias("r"), on="mention", how="left")
    shrank = F.coalesce(F.col("r.shrank"), F.lit(False))
    first = F.when(shrank, F.col("new_min")).otherwise(F.least(F.col("o.min_timestamp"), F.col("d.added_min")))
    last = F.when(shrank, F.col("new_max")).otherwise(F.greatest(F.col("o.max_timestamp"), F.col("d.added_max")))
    return joined.select("mention", first.alias("min_timestamp"), last.alias("max_timestamp"), *counts)


def daily_trend(daily: DataFrame, mentions: list[str]) -> DataFrame:
    """Per (mention, day) for the given mentions: counts and net sentiment (pos - neg) / total."""
    return (daily.where(F.col("mention").isin(mentions))
            .withColumn("net_sentiment", (F.col("positive") - F.col("negative")) / F.col("total"))
            .orderBy("mention", "day"))
