"""mention_sentiment and its per-batch partials as Dagster assets: a re-processed batch replaces its contribution."""

import dagster as dg

from tweet_sentiment.defs.asset_keys import PARTIALS
from tweet_sentiment.defs.automation import aggregates_behind
from tweet_sentiment.defs.gold import gold_predictions
from tweet_sentiment.defs.mention_sentiment import mention_sentiment, mention_sentiment_partials
from tweet_sentiment.defs.production_model import production_model
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.lakehouse.delta_io_manager import READ_FROM_KEY
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import (
    gold_row,
    loaded_input_metadata,
    materialization_metadata,
    with_registry,
    write_gold,
)
from tweet_sentiment_tests.helpers import read_table

UPSTREAM = [production_model, *silver.to_source_assets()]  # gold's inputs, so that gold can be loaded
ASSETS = [*UPSTREAM, gold_predictions, mention_sentiment_partials, mention_sentiment]


def _counts(spark, home) -> list[tuple]:
    return sorted((r.mention, r.negative, r.neutral, r.positive, r.total)
                  for r in read_table(spark, home, "mention_sentiment").collect())


def test_aggregate_over_batches_and_reprocessed_batch(resources, instance, home, spark):
    resources = with_registry(resources, home)
    write_gold(spark, home, [gold_row("b1", "bob", "positive", "POS"), gold_row("b1", "al", None, "NEG"),
                             gold_row("b2", "bob", "negative", "NEG", day=2),
                             gold_row("b2", "bob", None, "POS", day=3)])
    instance.add_dynamic_partitions("batches", ["b1", "b2"])
    for batch in ("b1", "b2"):  # what the sensor's batch runs do before the aggregate
        assert dg.materialize(ASSETS, selection=[mention_sentiment_partials], partition_key=batch,
                              instance=instance, resources=resources).success
    assert read_table(spark, home, "mention_sentiment_partials").where("batch = 'b2'").count() == 2  # two days

    result = dg.materialize(ASSETS, selection=[mention_sentiment], instance=instance, resources=resources)
    assert _counts(spark, home) == [("al", 1, 0, 0, 1), ("bob", 1, 0, 2, 3)]
    metadata = materialization_metadata(result, "mention_sentiment")
    assert metadata["total_mentions"] == 2 and metadata["dagster/row_count"] == 2
    assert metadata["partials_recomputed"] == "all" and metadata["update"]["mention_sentiment"] == "rebuilt"
    assert metadata["in_favour_top_20"].startswith("![") and metadata["villains_top_20"].startswith("![")
    assert metadata["daily_trend"].startswith("![") and "| bob | 3 |" in metadata["most_mentioned"]

    layout = HomeLayout.resolve(home)
    assert mention_sentiment.key not in aggregates_behind(instance, layout)
    # b2 is processed again (its gold partition replaced) by a run that did not refresh its partial (the CLI's
    # re-score): the aggregate recomputes that one partial, says so, and counts b2 once, with its new rows.
    write_gold(spark, home, [gold_row("b2", "cy", "neutral", "NEU")], batch="b2")
    assert mention_sentiment.key in aggregates_behind(instance, layout)  # gold moved on: the healing rule sees it
    result = dg.materialize(ASSETS, selection=[mention_sentiment], instance=instance, resources=resources)
    assert mention_sentiment.key not in aggregates_behind(instance, layout)
    assert _counts(spark, home) == [("al", 1, 0, 0, 1), ("bob", 0, 0, 1, 1), ("cy", 0, 1, 0, 1)]
    metadata = materialization_metadata(result, "mention_sentiment")
    assert metadata["partials_recomputed"] == 1 and metadata["update"]["mention_sentiment"] == "incremental"
    event = instance.get_latest_materialization_event(PARTIALS)
    assert event.asset_materialization.partition == "b2"
    assert event.asset_materialization.metadata["recomputed_by"].value == "mention_sentiment"


def _gold_in_run(rows: list[tuple]) -> dg.AssetsDefinition:
    """A stand-in for gold that writes `rows` as the batch's gold, cached, as the real gold step does."""
    from tweet_sentiment.defs.asset_keys import GOLD
    from tweet_sentiment.defs.partitions import batches
    from tweet_sentiment.defs.resources import DeltaSparkResource
    from tweet_sentiment_tests.gold_helpers import gold_frame

    @dg.asset(key=GOLD, partitions_def=batches, io_manager_key="delta_io_manager",
              metadata={"partition_expr": "batch"})
    def stand_in_gold(context: dg.AssetExecutionContext, pyspark: DeltaSparkResource):
        return gold_frame(pyspark.spark_session, [r for r in rows if r[-1] == context.partition_key]).persist()

    return stand_in_gold


def test_partials_in_the_run_that_wrote_gold_use_its_frame_and_equal_a_delta_read(resources, instance, home, spark):
    resources = with_registry(resources, home)
    rows = [gold_row("b1", "bob", "positive", "POS"), gold_row("b1", "al", None, "NEG", day=2)]
    instance.add_dynamic_partitions("batches", ["b1"])
    with_gold = dg.materialize([_gold_in_run(rows), mention_sentiment_partials], partition_key="b1",
                               instance=instance, resources=resources)
    in_run = {**materialization_metadata(with_gold, "mention_sentiment_partials"),
              **loaded_input_metadata(with_gold, "mention_sentiment_partials")}
    handed = sorted(read_table(spark, home, "mention_sentiment_partials").drop("ingest_date").collect())

    alone = dg.materialize(ASSETS, selection=[mention_sentiment_partials], partition_key="b1", instance=instance,
                           resources=resources)
    from_delta = {**materialization_metadata(alone, "mention_sentiment_partials"),
                  **loaded_input_metadata(alone, "mention_sentiment_partials")}
    assert (in_run[READ_FROM_KEY], from_delta[READ_FROM_KEY]) == ("this run's write", "Delta")
    assert in_run["gold_version"] == from_delta["gold_version"]  # no commit to gold in between
    assert sorted(read_table(spark, home, "mention_sentiment_partials").drop("ingest_date").collect()) == handed
    assert len(handed) == 2
