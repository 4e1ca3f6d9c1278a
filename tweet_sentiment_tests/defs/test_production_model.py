"""The production alias observation: its data version and its link into the MLflow UI."""

import pytest
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from tweet_sentiment.defs.production_model import observation
from tweet_sentiment.model.registry import MLFLOW_UI_ENV_VAR
from tweet_sentiment.model.spark_scoring import ModelRef

REF = ModelRef("HF_TWEET_SENTIMENT", "3", "sqlite:///x.db")


def test_observation_links_the_model_version_when_an_mlflow_ui_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MLFLOW_UI_ENV_VAR, "http://127.0.0.1:5077")
    event = observation(REF)
    assert event.tags[DATA_VERSION_TAG] == "3"
    assert event.metadata["mlflow_model_version"].value == (
        "http://127.0.0.1:5077/#/models/HF_TWEET_SENTIMENT/versions/3?workflowType=machine_learning")

    monkeypatch.delenv(MLFLOW_UI_ENV_VAR)
    assert "mlflow_model_version" not in observation(REF).metadata
    assert observation(REF).metadata["model_uri"].value == "models:/HF_TWEET_SENTIMENT/3"
