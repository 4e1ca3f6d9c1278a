"""The application aggregates, built incrementally: per batch a small partial (mention x day), and totals per mention
and per (mention, day) updated from the partials' changes, so a batch's cost does not grow with the history.

Counts are additive, so a change (rows inserted and deleted in the partials: a new batch, or a batch re-run or
re-scored) is applied by adding signed counts. First and last tweet are not: a mention that lost partial rows has its
min/max recomputed from the partials that remain, for that mention only.
"""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

COUNTS = {"negative": "NEG", "neutral": "NEU", "positive": "POS"}
COUNT_COLUMNS = (*COUNTS, "total")
PARTIAL_COLUMNS = ("mention", "day", "min_timestamp", "max_timestamp", *COUNT_COLUMNS)
TOTAL_COLUMNS = ("mention", "min_timestamp", "max_timestamp", *COUNT_COLUMNS)
DAILY_COLUMNS = ("mention", "day", *COUNT_COLUMNS)
INSERTED = ("insert", "update_postimage")
DELETED = ("delete", "update_preimage")


def _count_of(label: str) -> Column:
    return F.sum((F.col("predicted_sentiment") == label).cast("long"))


def mention_day_partials(gold: DataFrame) -> DataFrame:
    """One batch's contribution: per (mention, UTC day) its first and last tweet and predicted counts."""
    counts = [F.coalesce(_count_of(label), F.lit(0)).alias(name) for name, label in COUNTS.items()]
    return gold.groupBy("mention", F.to_date("timestamp").alias("day")).agg(
        F.min("timestamp").alias("min_timestamp"), F.max("timestamp").alias("max_timestamp"), *counts,
        F.count(F.lit(1)).alias("total"))


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


def _add_counts(current: DataFrame, delta: DataFrame, keys: list[str]) -> DataFrame:
    """`current` + `delta` per key (full outer); keys whose total reaches zero leave."""
    old, new = current.alias("o"), delta.alias("d")
    joined = old.join(new, on=keys, how="full_outer")
    counts = [(F.coalesce(F.col(f"o.{c}"), F.lit(0)) + F.coalesce(F.col(f"d.{c}"), F.lit(0))).alias(c)
              for c in COUNT_COLUMNS]
    return joined, counts


def apply_to_daily(daily: DataFrame, changes: DataFrame) -> DataFrame:
    """The daily totals after the partials' changes (counts only: exact for inserts and deletes alike)."""
    delta = _signed(changes).groupBy("mention", "day").agg(*[F.sum(c).alias(c) for c in COUNT_COLUMNS])
    joined, counts = _add_counts(daily, delta, ["mention", "day"])
    return joined.select("mention", "day", *counts).where(F.col("total") > 0)


def apply_to_totals(totals: DataFrame, changes: DataFrame, partials: DataFrame) -> DataFrame:
    """The per-mention totals after the partials' changes. `partials` is the partials table as of the changes' last
    version; it is read only for mentions that lost rows, whose first and last tweet may have moved inward."""
    signed = _signed(changes)
    delta = signed.groupBy("mention").agg(
        *[F.sum(c).alias(c) for c in COUNT_COLUMNS],
        F.min(F.when(F.col("_change_type").isin(*INSERTED), F.col("min_timestamp"))).alias("added_min"),
        F.max(F.when(F.col("_change_type").isin(*INSERTED), F.col("max_timestamp"))).alias("added_max"))
    shrunk = signed.where(F.col("_change_type").isin(*DELETED)).select("mention").distinct()
    recomputed = totals_from_partials(partials.join(shrunk, "mention", "left_semi")).select(
        "mention", F.col("min_timestamp").alias("new_min"), F.col("max_timestamp").alias("new_max"))
    joined, counts = _add_counts(totals, delta, ["mention"])
    joined = joined.join(recomputed.alias("r"), on="mention", how="left")
    first = F.coalesce(F.col("r.new_min"), F.least(F.col("o.min_timestamp"), F.col("d.added_min")))
    last = F.coalesce(F.col("r.new_max"), F.greatest(F.col("o.max_timestamp"), F.col("d.added_max")))
    return joined.select("mention", first.alias("min_timestamp"), last.alias("max_timestamp"), *counts).where(
        F.col("total") > 0)


def daily_trend(daily: DataFrame, mentions: list[str]) -> DataFrame:
    """Per (mention, day) for the given mentions: counts and net sentiment (pos - neg) / total."""
    return (daily.where(F.col("mention").isin(mentions))
            .withColumn("net_sentiment", (F.col("positive") - F.col("negative")) / F.col("total"))
            .orderBy("mention", "day"))
