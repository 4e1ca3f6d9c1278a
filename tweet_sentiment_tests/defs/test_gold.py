"""gold_predictions with a tiny registered model; a new production version makes gold stale and re-scoring fixes it."""

import json

import dagster as dg
import pandas as pd
import pytest
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver

from tweet_sentiment.commands import gold_steps
from tweet_sentiment.defs.asset_keys import GOLD
from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.evaluation import sentiment_batch_metrics
from tweet_sentiment.defs.gold import gold_predictions, gold_profile, predictions_check
from tweet_sentiment.defs.model import MlflowRegistry
from tweet_sentiment.defs.production_model import (
    observed_version,
    production_model,
    production_model_sensor,
    report_production_model,
)
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.model.registry import load_production_model
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import BATCH_JOB, materialization_metadata, register_tiny, with_registry
from tweet_sentiment_tests.helpers import read_table, register_batches

TWEETS = [("Mon Apr 06 22:19:45 PDT 2009", "@bob @al i love this day", "positive"),
          ("Mon Apr 06 22:20:00 PDT 2009", "@bob the update is awful", "negative"),
          ("Tue Apr 07 10:00:00 PDT 2009", "@cy meeting at the update", "neutral"),
          ("Tue Apr 07 11:00:00 PDT 2009", "@al i love this day", "positive"),
          ("Tue Apr 07 12:00:00 PDT 2009", "no mention, not in gold", "positive"),
          ("someday", "@bob quarantined in silver, not in gold", "positive")]
LINES = [json.dumps({"date": d, "user": f"u{i}", "text": t, "sentiment": s}) for i, (d, t, s) in enumerate(TWEETS)]
LINES.append("{not json: quarantined in bronze")


def _stale(assets: list, instance: dg.DagsterInstance, key: str) -> StaleStatus:
    """What the UI shows for the gold partition (dagster's own stale-status resolver)."""
    return get_stale_status_resolver(instance, assets).get_status(GOLD, key)


def test_gold_scores_each_text_once_and_rescoring_follows_production(resources, instance, home, source_dir, spark,
                                                                     tmp_path):
    assert register_tiny(home, seed=0) == "1"
    resources = with_registry(resources, home)
    registry: MlflowRegistry = resources["mlflow_registry"]
    (source_dir / "t.json").write_text("\n".join(LINES) + "\n")
    (key,) = register_batches(home, source_dir, instance)
    assets = [production_model, bronze, silver, gold_predictions]
    defs = dg.Definitions(assets=[*assets, sentiment_batch_metrics], jobs=[BATCH_JOB],
                          sensors=[production_model_sensor], resources=resources)
    gold_path = HomeLayout.resolve(home).table("gold_predictions")

    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        sensed = production_model_sensor(context)
    assert [e.tags["dagster/data_version"] for e in sensed.asset_events] == ["1"]
    report_production_model(instance, registry)
    assert observed_version(instance) == "1"
    result = dg.materialize(assets[1:], partition_key=key, instance=instance, resources=resources)

    gold = read_table(spark, home, "gold_predictions").toPandas()
    assert len(gold) == read_table(spark, home, "silver_mentions").count() == 5
    assert set(gold["model_version"]) == {"1"} and set(gold["model_name"]) == {"HF_TWEET_SENTIMENT"}
    assert set(gold["batch"]) == {key}
    # Each row carries its own text's prediction, exactly as the registered model scores it on the driver.
    expected = load_production_model(home=home).predict(pd.DataFrame({"text": gold["cleaned_text"]}))
    assert gold["predicted_sentiment"].tolist() == expected["predicted_sentiment"].tolist()
    assert gold["predicted_score"].tolist() == (expected["predicted_score"] * 100).round(2).tolist()
    assert gold["predicted_sentiment_id"].tolist() == [{"NEG": 0, "POS": 1, "NEU": -1}[p]
                                                       for p in gold["predicted_sentiment"]]
    metadata = materialization_metadata(result, "gold_predictions")
    assert metadata["distinct_texts_scored"] == 3  # "i love this day": two tweets, three mentions
    assert metadata["model_version"] == "1" and metadata["dagster/row_count"] == 5
    gold_checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations() if e.asset_key == GOLD}
    assert gold_checks == {"schema": True, "non_null_keys": True, "valid_predictions": True}
    assert _stale(assets, instance, key) == StaleStatus.FRESH
    first_tick = dg.evaluate_automation_conditions(defs, instance, asset_selection=dg.AssetSelection.assets(GOLD))
    assert first_tick.get_num_requested(GOLD) == 0

    # production moves to a new version: gold shows stale and its automation condition asks for a re-score.
    assert register_tiny(home, bias=[4.0, 0.0, 0.0]) == "2"
    assert report_production_model(instance, registry).version == "2"
    assert _stale(assets, instance, key) == StaleStatus.STALE
    tick = dg.evaluate_automation_conditions(defs, instance, asset_selection=dg.AssetSelection.assets(GOLD),
                                             cursor=first_tick.cursor)
    assert tick.get_requested_partitions(GOLD) == {key}
    assert gold_steps.stale_gold_batches(spark, gold_path, instance, "2") == [key]

    # Re-scoring (the CLI's step, here with MLflow's spark_udf scorer) replaces the partition with the new version.
    config = {"ops": {"gold_predictions": {"config": {"scorer": "spark_udf"}}}}
    assert gold_steps.rescore_batches(defs, instance, [key], config) == {key: None}
    rescored = read_table(spark, home, "gold_predictions").toPandas()
    assert len(rescored) == 5 and set(rescored["model_version"]) == {"2"}
    assert set(rescored["predicted_sentiment"]) == {"NEG"}
    assert _stale(assets, instance, key) == StaleStatus.FRESH
    assert gold_steps.stale_gold_batches(spark, gold_path, instance, "2") == []
    assert read_table(spark, home, "sentiment_batch_metrics").first().model_versions == "2"


def test_gold_profile_flags_invalid_predictions(spark):
    frame = spark.createDataFrame(
        [("2009-04-07", "bob", "a", "1", "POS", 90.0), ("2009-04-07", "al", "b", "1", "MEH", 50.0),
         ("2009-04-07", None, "c", "1", "NEG", 101.0), ("2009-04-07", "cy", "d", "1", None, None)],
        "timestamp string, mention string, cleaned_text string, model_version string, predicted_sentiment string, "
        "predicted_score double")
    scores = spark.createDataFrame([("a", 1), ("b", 0), ("c", 0)], "cleaned_text string, model_loads int")
    profile = gold_profile(frame, scores)
    assert profile.nulls == {"timestamp": 0, "mention": 1, "cleaned_text": 0, "model_version": 0}
    assert profile.predicted == {"NEG": 1, "NEU": 0, "POS": 1} and profile.invalid == 3
    assert (profile.texts, profile.loads) == (3, 1)
    assert gold_profile(frame, scores.drop("model_loads")).loads is None
    assert not predictions_check(profile.invalid).passed


def test_warm_workers_score_a_second_run_without_loading_the_model_again(resources, instance, home, source_dir,
                                                                         spark, tmp_path, engine_url):
    """Two runs (two Dagster runs, as two sensor batches would be) on one engine session: the Python workers load
    the model for the first and keep it for the second."""
    import time
    import uuid

    from tweet_sentiment.defs.resources import DeltaSparkResource

    register_tiny(home, seed=3)
    # A session of its own, so that only this test's scoring runs in its Python workers.
    session = DeltaSparkResource(remote=f"{engine_url.split(';')[0]};session_id={uuid.uuid4()}")
    resources = with_registry({**resources, "pyspark": session}, home)
    assets = [production_model, bronze, silver, gold_predictions]
    loads, finished = [], []
    for name in ("first", "second"):
        (source_dir / f"{name}.json").write_text("\n".join(LINES).replace('"user": "u', f'"user": "{name}') + "\n")
        (key,) = register_batches(home, source_dir, instance)
        started = time.monotonic()
        result = dg.materialize(assets[1:], partition_key=key, instance=instance, resources=resources)
        loads.append(materialization_metadata(result, "gold_predictions")["model_loads"])
        finished.append((started, time.monotonic()))
    if finished[1][0] - finished[0][1] > 50:  # Spark ends Python workers idle for a minute: no warm worker to test
        pytest.skip("the machine took over 50 s between the two runs")
    assert 1 <= loads[0] <= 2 and loads[1] == 0  # two task slots: at most two workers, each loads once
