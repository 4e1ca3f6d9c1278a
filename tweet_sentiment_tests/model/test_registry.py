"""Registration in a temporary MLflow store: versions, the `production` alias, no duplicates, the pyfunc contract."""

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from tweet_sentiment.model.contract import SIGNATURE
from tweet_sentiment.model.registry import (
    ALIAS,
    HASH_TAG,
    MODEL_NAME,
    load_production_model,
    register_source,
    tracking_uri_for,
)
from tweet_sentiment_tests.tiny_model import build_tiny_model


def test_register_reuses_identical_and_moves_alias(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first_dir = build_tiny_model(tmp_path / "a", {0: "negative", 1: "neutral", 2: "positive"}, bias=[0.0, 0.0, 3.0])
    first = register_source(str(first_dir), home=home)
    assert (first.name, first.version, first.reused) == (MODEL_NAME, "1", False)
    assert first.run_url == f"runs:/{first.run_id}"
    assert (home / "mlflow" / "mlflow.db").exists()
    assert any((home / "mlflow" / "artifacts").rglob("model.safetensors"))

    again = register_source(str(first_dir), home=home)
    assert (again.version, again.reused) == ("1", True)

    second_dir = build_tiny_model(tmp_path / "b", {0: "negative", 1: "neutral", 2: "positive"}, bias=[3.0, 0.0, 0.0])
    second = register_source(str(second_dir), home=home)
    assert (second.version, second.reused) == ("2", False)

    mlflow.set_tracking_uri(tracking_uri_for(None, home))
    client = MlflowClient(registry_uri=tracking_uri_for(None, home))
    assert len(client.search_model_versions(f"name='{MODEL_NAME}'")) == 2
    assert str(client.get_model_version_by_alias(MODEL_NAME, ALIAS).version) == "2"
    assert client.get_model_version(MODEL_NAME, "1").tags[HASH_TAG] != client.get_model_version(MODEL_NAME, "2").tags[
        HASH_TAG]

    # Re-registering the first model points production back at version 1 without a third version.
    back = register_source(str(first_dir), home=home)
    assert (back.version, back.reused) == ("1", True)
    assert str(client.get_model_version_by_alias(MODEL_NAME, ALIAS).version) == "1"


def test_production_pyfunc_contract(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = build_tiny_model(tmp_path / "m", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, bias=[0.0, 4.0, 0.0])
    register_source(str(folder), home=home)
    model = load_production_model(home=home)
    assert model.metadata.get_input_schema() == SIGNATURE.inputs
    assert model.metadata.get_output_schema() == SIGNATURE.outputs

    frame = model.predict(pd.DataFrame({"text": ["i love this", "", "awful day", "@user http"]}),
                          params={"batch_size": 2})
    assert list(frame.columns) == ["predicted_sentiment", "predicted_score"]
    assert frame["predicted_sentiment"].tolist() == ["NEU"] * 4
    assert frame["predicted_score"].iloc[1] == 1.0
    assert 0.9 < frame["predicted_score"].iloc[0] < 1.0

    # The wrapped model also takes a plain list of strings (MLflow's schema check wants a DataFrame).
    listed = model.unwrap_python_model().predict(None, ["i love this", None])
    assert listed["predicted_sentiment"].tolist() == ["NEU", "NEU"]


def test_registered_requirements_are_pinned_without_torchvision(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = register_source(str(build_tiny_model(tmp_path / "m", {0: "NEG", 1: "NEU", 2: "POS"})), home=home)
    mlflow.set_tracking_uri(tracking_uri_for(None, home))
    local = mlflow.artifacts.download_artifacts(f"models:/{MODEL_NAME}/{result.version}")
    requirements = (Path(local) / "requirements.txt").read_text()
    assert "torchvision" not in requirements
    assert "transformers==" in requirements and "torch==" in requirements


def test_load_production_without_registration_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="model register"):
        load_production_model(home=tmp_path / "empty")


def test_scoring_before_registration_does_not_change_the_hash(tmp_path: Path) -> None:
    from tweet_sentiment.model.classifier import SentimentClassifier
    from tweet_sentiment.model.registry import register
    from tweet_sentiment.model.scoring import score_texts
    from tweet_sentiment.model.sources import load_source

    folder = build_tiny_model(tmp_path / "m", {0: "NEG", 1: "NEU", 2: "POS"})
    first = register(load_source(str(folder)), home=tmp_path / "home")
    used = load_source(str(folder))
    score_texts(SentimentClassifier(used.model, used.tokenizer, max_length=16), ["i love this day"])
    again = register(used, home=tmp_path / "home")
    assert (again.version, again.reused) == (first.version, True)
