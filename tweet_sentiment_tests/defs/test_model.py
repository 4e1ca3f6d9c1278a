"""The sentiment_model asset: registration through Dagster, metadata, and the resource definitions."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from tweet_sentiment.defs.asset_keys import SENTIMENT_MODEL
from tweet_sentiment.defs.model import (
    REPORTED_BY_TAG,
    MlflowRegistry,
    mlflow_resources,
    report_cli_registration,
    sentiment_model,
)
from tweet_sentiment.model.registry import MLFLOW_UI_ENV_VAR, register_source
from tweet_sentiment_tests.tiny_model import build_tiny_model


def _materialize(folder: Path, home: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [sentiment_model], resources={"mlflow_registry": MlflowRegistry(home=str(home))},
        run_config=dg.RunConfig(ops={"sentiment_model": {"config": {"source": str(folder)}}}),
        instance=dg.DagsterInstance.ephemeral())


def test_sentiment_model_registers_and_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MLFLOW_UI_ENV_VAR, raising=False)  # no MLflow UI: the run is named by its runs:/ URI
    folder = build_tiny_model(tmp_path / "m", {0: "NEG", 1: "NEU", 2: "POS"}, bias=[0.0, 0.0, 2.0])
    result = _materialize(folder, tmp_path / "home")
    assert result.success
    metadata = result.asset_materializations_for_node("sentiment_model")[0].metadata
    assert metadata["model_name"].value == "HF_TWEET_SENTIMENT"
    assert metadata["version"].value == "1"
    assert metadata["alias"].value == "production"
    assert metadata["source"].value == str(folder.resolve())
    assert metadata["reused_existing_version"].value is False
    assert metadata["dev_macro_recall"].value == "n/a"
    assert metadata["mlflow_run"].value.startswith("runs:/")

    again = _materialize(folder, tmp_path / "home")
    again_metadata = again.asset_materializations_for_node("sentiment_model")[0].metadata
    assert again_metadata["version"].value == "1"
    assert again_metadata["reused_existing_version"].value is True

    model = MlflowRegistry(home=str(tmp_path / "home")).load_production()
    assert model.predict(pd.DataFrame({"text": ["hello"]}))["predicted_sentiment"].tolist() == ["POS"]


def test_asset_spec_and_resource_definitions() -> None:
    spec = sentiment_model.specs_by_key[dg.AssetKey("sentiment_model")]
    assert spec.group_name == "model"
    assert set(spec.kinds) == {"mlflow", "huggingface"}
    defs = mlflow_resources()
    assert isinstance(defs.resources["mlflow_registry"], MlflowRegistry)
    # load_from_defs_folder takes only what a module's @dg.definitions returns, so the asset must be in it.
    assert dg.AssetKey("sentiment_model") in defs.resolve_all_asset_keys()


def test_a_cli_registration_is_reported_as_a_materialization_with_mlflow_links(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MLFLOW_UI_ENV_VAR, "http://127.0.0.1:5077")
    folder = build_tiny_model(tmp_path / "m", {0: "NEG", 1: "NEU", 2: "POS"}, bias=[0.0, 0.0, 2.0])
    registration = register_source(str(folder), home=tmp_path / "home")
    instance = dg.DagsterInstance.ephemeral()
    assert instance.get_latest_materialization_event(SENTIMENT_MODEL) is None

    report_cli_registration(instance, registration)

    event = instance.get_latest_materialization_event(SENTIMENT_MODEL)
    assert event is not None and event.run_id == ""  # runless: reported, not run
    materialization = event.asset_materialization
    assert materialization.tags[REPORTED_BY_TAG] == "cli"
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert (metadata["version"], metadata["registered_by"]) == ("1", "tweet-sentiment model register")
    assert metadata["mlflow_model_version"] == (
        "http://127.0.0.1:5077/#/models/HF_TWEET_SENTIMENT/versions/1?workflowType=machine_learning")
    assert metadata["mlflow_run"] == (f"http://127.0.0.1:5077/#/experiments/{registration.experiment_id}/runs/"
                                      f"{registration.run_id}?workflowType=machine_learning")
