"""The pinned production version and its local copy, downloaded once per version."""

from pathlib import Path

import pytest

from tweet_sentiment.model import production
from tweet_sentiment.model.registry import register_source
from tweet_sentiment_tests.tiny_model import build_tiny_model


def test_local_copy_is_downloaded_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    register_source(str(build_tiny_model(tmp_path / "m", {0: "NEG", 1: "NEU", 2: "POS"})), home=home)
    ref = production.production_model_ref(home=home)
    assert (ref.name, ref.version, ref.uri) == ("HF_TWEET_SENTIMENT", "1", "models:/HF_TWEET_SENTIMENT/1")
    first = production.local_model_path(ref, home)
    assert (first / "MLmodel").exists() and first.parent == home / "mlflow" / "model_cache"

    def no_download(**_: object) -> str:
        raise AssertionError("the cached copy should have been used")

    monkeypatch.setattr(production.mlflow.artifacts, "download_artifacts", no_download)
    assert production.local_model_path(ref, home) == first
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no staging folder left behind


def test_no_production_version_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="model register"):
        production.production_model_ref(home=tmp_path / "home")
