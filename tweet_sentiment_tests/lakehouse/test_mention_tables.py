"""The incremental mention aggregates equal a full rebuild from gold, row for row, whatever happened to the batches:
new ones, a re-run that drops a mention's first tweet, a re-score, a partial left stale, a vacuumed change feed."""

from functools import partial

import pytest
from pyspark.sql import functions as F

from tweet_sentiment.lakehouse.delta_log import latest_version
from tweet_sentiment.lakehouse.mention_tables import (
    PARTIALS_TABLE,
    partial_gold_versions,
    refresh_partials,
    stale_partials,
    update_mention_tables,
)
from tweet_sentiment.lakehouse.partition_writer import PartitionWriter
from tweet_sentiment.lakehouse.tables import table_sql
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment.transforms.mention_aggregates import TOTAL_COLUMNS, mention_day_partials
from tweet_sentiment.transforms.mention_sentiment import mention_sentiment
from tweet_sentiment_tests.gold_helpers import gold_row, write_gold
from tweet_sentiment_tests.helpers import read_table


def _rows(frame, columns) -> list[tuple]:
    return sorted(tuple(r[c] for c in columns) for r in frame.select(*columns).collect())


def _assert_equal_to_rebuild(spark, home) -> None:
    gold = read_table(spark, home, "gold_predictions")
    assert _rows(read_table(spark, home, "mention_sentiment"), TOTAL_COLUMNS) == _rows(mention_sentiment(gold),
                                                                                       TOTAL_COLUMNS)
    daily = (gold.groupBy("mention", F.to_date("timestamp").alias("day"))
             .agg(F.count(F.lit(1)).alias("total"),
                  F.sum((F.col("predicted_sentiment") == "NEG").cast("long")).alias("negative")))
    columns = ("mention", "day", "negative", "total")
    assert _rows(read_table(spark, home, "mention_sentiment_daily"), columns) == _rows(daily, columns)


@pytest.mark.parametrize("layout_column", ["ingest_date", "batch"])
def test_incremental_aggregate_equals_a_full_rebuild(spark, home, layout_column):
    """In the date layout a re-run's changes come from gold's change feed; in an older home's batch layout, from
    the partition values in gold's log."""
    layout = HomeLayout.resolve(home)
    write = partial(write_gold, by=layout_column)

    write(spark, home, [gold_row("b1", "bob", "positive", "POS", day=2), gold_row("b1", "al", None, "NEG"),
                        gold_row("b2", "bob", "negative", "NEG", day=1), gold_row("b2", "bob", None, "POS", day=5)])
    first = update_mention_tables(spark, layout)
    assert first.modes == {"mention_sentiment": "rebuilt", "mention_sentiment_daily": "rebuilt"}
    assert first.partials_recomputed is None
    _assert_equal_to_rebuild(spark, home)

    # A new batch: only its partial is computed, the totals are MERGEd.
    write(spark, home, [gold_row("b3", "cy", "neutral", "NEU", day=3), gold_row("b3", "bob", None, "NEG", 3)],
               batch="b3")
    second = update_mention_tables(spark, layout)
    assert second.partials_recomputed == ["b3"] and second.gold_version == first.gold_version + 1
    assert second.modes == {"mention_sentiment": "incremental", "mention_sentiment_daily": "incremental"}
    _assert_equal_to_rebuild(spark, home)
    assert update_mention_tables(spark, layout).modes["mention_sentiment"] == "unchanged"

    # b2 re-run without bob's first and last tweets: his min and max move inward, counted once.
    write(spark, home, [gold_row("b2", "bob", None, "NEU", day=4), gold_row("b2", "dee", None, "POS", 4)],
               batch="b2")
    assert update_mention_tables(spark, layout).partials_recomputed == ["b2"]
    _assert_equal_to_rebuild(spark, home)
    bob = read_table(spark, home, "mention_sentiment").where("mention = 'bob'").first()
    assert (bob.min_timestamp.day, bob.max_timestamp.day, bob.total) == (2, 4, 3)

    # b1 re-scored by model version 2: its labels change; al leaves the aggregate (no tweets left).
    write(spark, home, [gold_row("b1", "bob", "positive", "NEG", day=2, version="2")], batch="b1")
    update_mention_tables(spark, layout)
    _assert_equal_to_rebuild(spark, home)
    assert read_table(spark, home, "mention_sentiment").where("mention = 'al'").count() == 0


def test_partials_written_by_the_batch_run_are_not_recomputed(spark, home):
    layout = HomeLayout.resolve(home)
    write_gold(spark, home, [gold_row("b1", "bob", "positive", "POS")])
    update_mention_tables(spark, layout)
    write_gold(spark, home, [gold_row("b2", "al", "negative", "NEG", day=3)], batch="b2")
    gold_version = latest_version(layout.table("gold_predictions"))
    gold = read_table(spark, home, "gold_predictions").where("batch = 'b2'")
    # What the mention_sentiment_partials asset does in the batch run, before the aggregate runs.
    partials = mention_day_partials(gold, gold_version, ["ingest_date"])
    PartitionWriter(spark).replace_partitions(partials, layout.table(PARTIALS_TABLE), "batch", ["b2"], "t")
    update = update_mention_tables(spark, layout)
    assert update.partials_recomputed == [] and update.modes["mention_sentiment"] == "incremental"
    _assert_equal_to_rebuild(spark, home)


def test_a_change_feed_that_does_not_cover_the_changes_means_a_rebuild(spark, home):
    layout = HomeLayout.resolve(home)
    write_gold(spark, home, [gold_row("b1", "bob", "positive", "POS")])
    update_mention_tables(spark, layout)
    write_gold(spark, home, [gold_row("b2", "al", "negative", "NEG", day=3)], batch="b2")
    update_mention_tables(spark, layout)  # the change feed now has files
    write_gold(spark, home, [gold_row("b2", "cy", "negative", "POS", day=3)], batch="b2")
    partials = layout.table(PARTIALS_TABLE)
    # The new partial is written while the feed is off: the feed cannot tell the aggregate what changed (as when
    # a VACUUM removed the files of old versions).
    spark.sql(f"ALTER TABLE {table_sql(partials)} SET TBLPROPERTIES (delta.enableChangeDataFeed = false)").collect()
    assert refresh_partials(spark, layout, latest_version(layout.table("gold_predictions")), 1) == ["b2"]
    result = update_mention_tables(spark, layout)
    assert result.modes == {"mention_sentiment": "rebuilt", "mention_sentiment_daily": "rebuilt"}
    _assert_equal_to_rebuild(spark, home)


def test_a_gold_rerun_the_log_cannot_place_without_a_change_feed_recomputes_every_partial(spark, home):
    layout = HomeLayout.resolve(home)
    write_gold(spark, home, [gold_row("b1", "bob", "positive", "POS"), gold_row("b2", "al", None, "NEG")])
    update_mention_tables(spark, layout)
    gold = layout.table("gold_predictions")
    spark.sql(f"ALTER TABLE {table_sql(gold)} SET TBLPROPERTIES (delta.enableChangeDataFeed = false)").collect()
    write_gold(spark, home, [gold_row("b2", "al", None, "POS", day=2)], batch="b2")
    update = update_mention_tables(spark, layout)
    assert update.partials_recomputed is None  # neither the log nor the feed says which batch changed: all of them
    _assert_equal_to_rebuild(spark, home)


def test_partial_versions_come_from_file_statistics_until_files_hold_several_batches(spark, home):
    layout = HomeLayout.resolve(home)
    write_gold(spark, home, [gold_row("b1", "bob", "positive", "POS")])
    write_gold(spark, home, [gold_row("b2", "al", "negative", "NEG", day=3)], batch="b2")
    partials = layout.table(PARTIALS_TABLE)
    for batch in ("b1", "b2"):
        gold = read_table(spark, home, "gold_predictions").where(F.col("batch") == batch)
        version = latest_version(layout.table("gold_predictions"))
        computed = mention_day_partials(gold, version - (batch == "b1"), ["ingest_date"])
        PartitionWriter(spark).replace_partitions(computed, partials, "batch", [batch], "t")
    gold_version = latest_version(layout.table("gold_predictions"))
    assert partial_gold_versions(partials, ["b1", "b2", "b9"]) == {"b1": gold_version - 1, "b2": gold_version}
    spark.sql(f"OPTIMIZE {table_sql(partials)}").collect()  # one file for both batches: the log cannot tell
    assert partial_gold_versions(partials, ["b1"]) is None
    write_gold(spark, home, [gold_row("b1", "cy", "negative", "NEG")], batch="b1")  # re-scored: b1 is stale
    # Spark answers instead of the log.
    assert stale_partials(spark, layout, gold_version + 1, gold_version) == ["b1"]
