"""The model tests' fixture: a tiny classifier built in a temporary folder."""

from pathlib import Path

import pytest

from tweet_sentiment_tests.tiny_model import build_tiny_model


@pytest.fixture
def tiny_model_dir(tmp_path: Path) -> Path:
    """A tiny classifier whose labels are spelled like cardiffnlp's (negative/neutral/positive)."""
    return build_tiny_model(tmp_path / "tiny", {0: "negative", 1: "neutral", 2: "positive"})
