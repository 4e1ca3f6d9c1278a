"""Links into the MLflow UI, experiment types and registry descriptions."""

from pathlib import Path

import pytest
from mlflow import MlflowClient

from tweet_sentiment.model.evaluation_runs import EVALUATION_EXPERIMENT, evaluation_experiment, evaluation_run_name
from tweet_sentiment.model.registry import (
    EXPERIMENT,
    EXPERIMENT_KIND_TAG,
    MLFLOW_UI_ENV_VAR,
    MODEL_DESCRIPTION,
    MODEL_NAME,
    MODEL_TRAINING_KIND,
    register_source,
    tracking_uri_for,
    ui_artifact_url,
    ui_experiment_url,
    ui_model_version_url,
    ui_run_url,
)
from tweet_sentiment_tests.tiny_model import build_tiny_model


def test_ui_links_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MLFLOW_UI_ENV_VAR, raising=False)
    assert ui_run_url("1", "abc") is None and ui_model_version_url(MODEL_NAME, "2") is None
    assert ui_artifact_url("abc", "x.png") is None and ui_experiment_url("1") is None
    monkeypatch.setenv(MLFLOW_UI_ENV_VAR, "http://127.0.0.1:5077/")
    # The model-training view of MLflow 3's UI, not its GenAI traces.
    assert ui_experiment_url("1") == "http://127.0.0.1:5077/#/experiments/1?workflowType=machine_learning"
    assert ui_run_url("1", "abc") == "http://127.0.0.1:5077/#/experiments/1/runs/abc?workflowType=machine_learning"
    assert ui_model_version_url(MODEL_NAME, "2") == (
        "http://127.0.0.1:5077/#/models/HF_TWEET_SENTIMENT/versions/2?workflowType=machine_learning")
    assert (ui_artifact_url("abc", "agreement_per_batch.png")
            == "http://127.0.0.1:5077/get-artifact?path=agreement_per_batch.png&run_uuid=abc")


def test_evaluation_run_names_tell_runs_apart() -> None:
    keys = ["b20261128T011947-9307b4af43", "b20261128T012240-3eabf5f6f2", "b20261128T015030-0123456789"]
    assert evaluation_run_name(keys, ["2"]) == "eval v2, 3 batches, b20261128T011947..b20261128T015030"
    assert evaluation_run_name(keys[:1], ["1", "2"]) == "eval v1+2, 1 batch, b20261128T011947"
    assert evaluation_run_name([], []) == "eval vnone, 0 batches"


def test_experiments_are_model_training_and_the_model_is_described(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = build_tiny_model(tmp_path / "m", {0: "negative", 1: "neutral", 2: "positive"}, bias=[0.0, 0.0, 3.0])
    registration = register_source(str(folder), home=home)
    client, evaluation_id = evaluation_experiment(None, home)
    client = MlflowClient(tracking_uri=tracking_uri_for(None, home), registry_uri=tracking_uri_for(None, home))
    for name in (EXPERIMENT, EVALUATION_EXPERIMENT):
        assert client.get_experiment_by_name(name).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING_KIND
    assert client.get_experiment(evaluation_id).tags["mlflow.note.content"].startswith("One run per refresh")
    assert client.get_registered_model(MODEL_NAME).description == MODEL_DESCRIPTION
    version = client.get_model_version(MODEL_NAME, registration.version)
    assert version.description.startswith(f"Source {folder.resolve()}") and "not measured" in version.description
    assert registration.experiment_id == client.get_experiment_by_name(EXPERIMENT).experiment_id

    # An experiment made before the type existed (no tag) is typed when it is next used.
    client.delete_experiment_tag(evaluation_id, EXPERIMENT_KIND_TAG)
    evaluation_experiment(None, home)
    assert client.get_experiment(evaluation_id).tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING_KIND
