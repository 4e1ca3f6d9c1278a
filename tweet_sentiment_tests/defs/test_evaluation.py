"""Per-batch metrics with the drift check, and the cumulative evaluation logged to MLflow, on a hand-made gold table."""

import dagster as dg
import pytest
from mlflow import MlflowClient

from tweet_sentiment.defs.evaluation import sentiment_batch_metrics, sentiment_evaluation
from tweet_sentiment.defs.gold import gold_predictions
from tweet_sentiment.defs.production_model import production_model
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.model.registry import EXPERIMENT_KIND_TAG, MLFLOW_UI_ENV_VAR, MODEL_TRAINING_KIND, tracking_uri_for
from tweet_sentiment_tests.gold_helpers import (
    gold_row,
    known_answer_rows,
    materialization_metadata,
    with_registry,
    write_gold,
)
from tweet_sentiment_tests.helpers import read_table

UPSTREAM = [production_model, *silver.to_source_assets()]  # gold's inputs, so that gold can be loaded

MACRO_F1 = (4 / 7 + 0.8 + 0.75) / 3


def test_batch_metrics_drift_check_and_mlflow_evaluation(resources, instance, home, spark, monkeypatch):
    monkeypatch.setenv(MLFLOW_UI_ENV_VAR, "http://127.0.0.1:5077")
    resources = with_registry(resources, home)
    # b1 agrees on 7 of 10 labelled rows; b2 gets every one of its three rows wrong.
    write_gold(spark, home, known_answer_rows("b1") + [gold_row("b2", "zed", "positive", "NEG")] * 3)
    instance.add_dynamic_partitions("batches", ["b1", "b2"])
    assets = [*UPSTREAM, gold_predictions, sentiment_batch_metrics, sentiment_evaluation]
    config = dg.RunConfig(ops={"sentiment_batch_metrics": {"config": {"min_history": 1}}})

    checks, batch_metadata = {}, {}
    for batch in ("b1", "b2"):
        result = dg.materialize(assets, selection=[sentiment_batch_metrics], partition_key=batch, instance=instance,
                                resources=resources, run_config=config)
        (checks[batch],) = result.get_asset_check_evaluations()
        batch_metadata[batch] = materialization_metadata(result, "sentiment_batch_metrics")
    # Numbers only (the Plots tab draws them per batch), rounded.
    assert batch_metadata["b1"]["macro_f1"] == round(MACRO_F1, 4) and batch_metadata["b1"]["share_pos"] == 0.4545
    assert batch_metadata["b1"]["labelled_rows"] == 10 and "batch" not in batch_metadata["b1"]
    rows = {r.batch: r for r in read_table(spark, home, "sentiment_batch_metrics").collect()}
    assert (rows["b1"].rows, rows["b1"].labelled_rows) == (11, 10)
    assert rows["b1"].agreement == pytest.approx(0.7) and rows["b1"].macro_f1 == pytest.approx(MACRO_F1)
    assert (rows["b1"].recall_neg, rows["b1"].recall_neu, rows["b1"].recall_pos) == pytest.approx((0.5, 1.0, 0.75))
    assert rows["b1"].share_pos == pytest.approx(5 / 11) and rows["b1"].model_versions == "1"
    assert (rows["b2"].agreement, rows["b2"].share_neg) == (0.0, 1.0)
    assert checks["b1"].passed and checks["b1"].metadata["earlier_batches"].value == 0
    assert not checks["b2"].passed and checks["b2"].severity == dg.AssetCheckSeverity.WARN
    assert checks["b2"].metadata["norm"].value == pytest.approx(0.7)

    result = dg.materialize(assets, selection=[sentiment_evaluation], instance=instance, resources=resources)
    metadata = materialization_metadata(result, "sentiment_evaluation")
    assert metadata["rows_evaluated"] == 13 and metadata["accuracy"] == pytest.approx(7 / 13, abs=1e-4)
    assert metadata["recall_pos"] == pytest.approx(3 / 7, abs=1e-4) and metadata["batches_covered"] == 2
    assert "| NEG | 2 | 1 | 1 |" in metadata["confusion_matrix"]
    client = MlflowClient(tracking_uri=tracking_uri_for(None, home))
    run_id, experiment_id = metadata["mlflow_run_id"], metadata["mlflow_experiment_id"]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "eval v1, 2 batches, b1..b2"
    assert client.get_experiment(experiment_id).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING_KIND
    # Links into the MLflow UI, and charts as short markdown pointing at the run's artifacts (shown without a click).
    ui = "http://127.0.0.1:5077"
    view = "?workflowType=machine_learning"
    assert metadata["mlflow_run"] == f"{ui}/#/experiments/{experiment_id}/runs/{run_id}{view}"
    assert metadata["mlflow_experiment"] == f"{ui}/#/experiments/{experiment_id}{view}"
    assert metadata["mlflow_model_version"] == f"{ui}/#/models/HF_TWEET_SENTIMENT/versions/1{view}"
    assert metadata["agreement_per_batch"] == (
        f"![agreement per batch]({ui}/get-artifact?path=agreement_per_batch.png&run_uuid={run_id})")
    assert metadata["confusion_matrix_chart"].endswith(f"path=confusion_matrix.png&run_uuid={run_id})")
    assert run.data.metrics["accuracy"] == pytest.approx(7 / 13) and run.data.metrics["rows"] == 13
    assert {k: run.data.params[k] for k in ("model_name", "model_version", "batches", "gold_delta_version")} == {
        "model_name": "HF_TWEET_SENTIMENT", "model_version": "1", "batches": "b1,b2", "gold_delta_version": "0"}
    assert run.data.params["mlflow_version"] == __import__("mlflow").__version__
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {
        "confusion_matrix.png", "agreement_per_batch.png", "evaluation.json"}

    # Without an MLflow UI: no links, the pictures embedded.
    monkeypatch.delenv(MLFLOW_UI_ENV_VAR)
    result = dg.materialize(assets, selection=[sentiment_evaluation], instance=instance, resources=resources)
    metadata = materialization_metadata(result, "sentiment_evaluation")
    assert "mlflow_run" not in metadata and "mlflow_model_version" not in metadata
    assert metadata["agreement_per_batch"].startswith("![agreement per batch](data:image/png;base64,")
    assert (home / "mlflow" / "artifacts").exists()


def test_a_batch_without_gold_rows_still_gets_its_metrics_row(resources, instance, home, spark):
    # Its metadata says rows = 0 (gold rows): the one-row frame must still be written, not taken for empty.
    resources = with_registry(resources, home)
    write_gold(spark, home, known_answer_rows("b1"))
    instance.add_dynamic_partitions("batches", ["b1", "b3"])
    assets = [*UPSTREAM, gold_predictions, sentiment_batch_metrics]
    for batch in ("b1", "b3"):
        assert dg.materialize(assets, selection=[sentiment_batch_metrics], partition_key=batch, instance=instance,
                              resources=resources).success
    rows = {r.batch: r for r in read_table(spark, home, "sentiment_batch_metrics").collect()}
    assert set(rows) == {"b1", "b3"} and rows["b3"].rows == 0 and rows["b3"].agreement is None
