"""The aggregates healing rule: behind gold by Delta version means one run, none while another run is in flight."""

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from tweet_sentiment.defs.automation import aggregates_behind, aggregates_healing_sensor
from tweet_sentiment.defs.resources import TweetSentimentHome
from tweet_sentiment.lakehouse.tables import SOURCE_VERSION_KEY
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import gold_row, write_gold

MENTIONS, EVALUATION = dg.AssetKey("mention_sentiment"), dg.AssetKey("sentiment_evaluation")


def _tick(instance: dg.DagsterInstance, home) -> dg.RunRequest | dg.SkipReason:
    with dg.build_sensor_context(instance=instance, resources={"tweet_home": TweetSentimentHome(home=str(home))}) as c:
        return aggregates_healing_sensor(c)


def _materialized(instance: dg.DagsterInstance, key: dg.AssetKey, gold_version: int) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(key, metadata={SOURCE_VERSION_KEY: gold_version}))


def test_aggregates_behind_gold_are_requested_once_per_gold_version(instance, home, spark):
    layout = HomeLayout.resolve(home)
    assert aggregates_behind(instance, layout) == [] and isinstance(_tick(instance, home), dg.SkipReason)

    write_gold(spark, home, [gold_row("b1", "bob", "positive", "POS")])  # version 0: nothing summarises it yet
    request = _tick(instance, home)
    assert request.asset_selection == [MENTIONS, EVALUATION] and request.run_key.endswith("gold-v0")

    _materialized(instance, MENTIONS, 0)
    _materialized(instance, EVALUATION, 0)
    assert aggregates_behind(instance, layout) == []
    write_gold(spark, home, [gold_row("b2", "al", "negative", "NEG")], batch="b2")  # a batch lands, then a kill
    _materialized(instance, EVALUATION, 1)
    request = _tick(instance, home)
    assert request.asset_selection == [MENTIONS] and request.run_key == "heal:mention_sentiment:gold-v1"

    instance.add_run(DagsterRun(job_name="batch_pipeline_with_mentions", status=dg.DagsterRunStatus.STARTED))
    assert "in progress" in _tick(instance, home).skip_message  # that run may refresh it: wait for it
