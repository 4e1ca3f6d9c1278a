"""Generated files -> batches -> bronze, silver, gold, batch metrics -> mention_sentiment and an MLflow evaluation run,
through the jobs `tweet-sentiment run` uses."""

import dagster as dg
import pytest
from mlflow import MlflowClient

from tweet_sentiment.local import gold as gold_steps
from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.evaluation import sentiment_batch_metrics, sentiment_evaluation
from tweet_sentiment.defs.gold import gold_predictions
from tweet_sentiment.defs.mention_sentiment import mention_sentiment
from tweet_sentiment.defs.production_model import production_model
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.model.registry import register_source, tracking_uri_for
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import AGGREGATES_JOB, BATCH_JOB, LABEL_IDS, with_registry
from tweet_sentiment_tests.helpers import read_table, register_batches
from tweet_sentiment_tests.model.conftest import build_tiny_model


@pytest.mark.slow
def test_files_to_mention_sentiment_and_mlflow_evaluation(resources, instance, home, source_dir, spark, tmp_path,
                                                          monkeypatch):
    for path in write_source_files(source_dir, tweets=150, files=2, seed=11):
        with path.open("a", encoding="utf-8") as handle:  # one line for each quarantine, kept out of gold
            handle.write('{"date": "someday", "user": "x", "text": "@bob bad date", "sentiment": "positive"}\n'
                         "{not json\n")
    resources = with_registry(resources, home)
    layout = HomeLayout.resolve(home)
    # An empty registry gets the builtin model first; a tiny model stands in for it here.
    registered = []
    tiny = build_tiny_model(tmp_path / "model", LABEL_IDS, seed=1)
    monkeypatch.setattr(gold_steps, "register_source", lambda source, tracking_uri, home, step: registered.append(
        source) or register_source(str(tiny), tracking_uri, home))
    defs = dg.Definitions(assets=[production_model, bronze, silver, gold_predictions, sentiment_batch_metrics,
                                  mention_sentiment, sentiment_evaluation],
                          jobs=[BATCH_JOB, AGGREGATES_JOB], resources=resources)
    keys = register_batches(home, source_dir, instance, max_files=1)
    assert len(keys) == 2

    assert gold_steps.ensure_production_model(instance, resources["mlflow_registry"]).version == "1"
    assert registered == ["builtin"]
    for key in keys:
        assert defs.resolve_job_def("batch_pipeline").execute_in_process(partition_key=key, instance=instance).success
    outcome = gold_steps.refresh_aggregates(defs, instance, spark, layout, top=3)
    assert outcome.success, outcome.error

    silver_rows = read_table(spark, home, "silver_mentions")
    gold = read_table(spark, home, "gold_predictions")
    assert gold.count() == silver_rows.count() > 0
    assert {r.batch for r in gold.select("batch").distinct().collect()} == set(keys)
    counts = read_table(spark, home, "mention_sentiment").collect()
    assert sum(r.total for r in counts) == gold.count()
    assert len(counts) == silver_rows.select("mention").distinct().count()
    assert all(r.negative + r.neutral + r.positive == r.total for r in counts)
    assert [r.total for r in counts] == sorted((r.total for r in counts), reverse=True)
    assert read_table(spark, home, "sentiment_batch_metrics").count() == 2
    assert read_table(spark, home, "quarantine").count() == 4  # two lines per batch, none of them in gold

    assert outcome.top_mentions == [(r.mention, r.negative, r.neutral, r.positive, r.total) for r in counts[:3]]
    assert gold_steps.stale_gold_batches(spark, layout.table("gold_predictions"), instance, "1") == []
    metadata = outcome.metadata
    assert metadata["rows_evaluated"] == gold.where("sentiment IS NOT NULL").count()
    run = MlflowClient(tracking_uri=tracking_uri_for(None, home)).get_run(metadata["mlflow_run_id"])
    assert run.data.params["batches"] == ",".join(sorted(keys)) and run.data.params["model_version"] == "1"
    assert run.data.metrics["macro_f1"] == pytest.approx(metadata["macro_f1"], abs=1e-4)
