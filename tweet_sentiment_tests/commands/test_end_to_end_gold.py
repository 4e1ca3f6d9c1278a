"""Generated files -> batches -> bronze, silver, gold, batch metrics -> mention_sentiment and an MLflow evaluation run,
through the jobs `tweet-sentiment run` uses (the session's populated home)."""

import pytest
from mlflow import MlflowClient

from tweet_sentiment.commands import gold_steps
from tweet_sentiment.model.registry import tracking_uri_for
from tweet_sentiment_tests.helpers import read_table
from tweet_sentiment_tests.populated_home import PopulatedHome


@pytest.mark.slow
def test_files_to_mention_sentiment_and_mlflow_evaluation(populated: PopulatedHome, spark):
    home, keys, outcome = populated.home, populated.batches, populated.aggregates
    assert len(keys) == 2
    # An empty registry gets the builtin model first (a tiny model stood in for it).
    assert populated.production_version == "1" and populated.registered == ["builtin"]

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
    assert gold_steps.stale_gold_batches(spark, populated.layout.table("gold_predictions"), populated.instance,
                                         "1") == []
    metadata = outcome.metadata
    assert metadata["rows_evaluated"] == gold.where("sentiment IS NOT NULL").count()
    run = MlflowClient(tracking_uri=tracking_uri_for(None, home)).get_run(metadata["mlflow_run_id"])
    assert run.data.params["batches"] == ",".join(sorted(keys)) and run.data.params["model_version"] == "1"
    assert run.data.metrics["macro_f1"] == pytest.approx(metadata["macro_f1"], abs=1e-4)
