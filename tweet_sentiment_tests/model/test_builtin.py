"""The real builtin model: the shipped adapter's size, a seeded smoke training run, registration end to end."""

import json
from pathlib import Path

import pandas as pd
import pytest

from tweet_sentiment.model.registry import load_production_model, register_source
from tweet_sentiment.model.sources import BUILTIN_DIR
from tweet_sentiment.model.train import TrainConfig, train


def test_shipped_part_is_small_and_reported() -> None:
    files = {p.name: p.stat().st_size for p in BUILTIN_DIR.iterdir() if p.is_file()}
    assert {"adapter_config.json", "adapter_model.safetensors", "assembly.json", "training_report.json"} <= set(files)
    assert max(files.values()) < 5 * 2**20
    report = json.loads((BUILTIN_DIR / "training_report.json").read_text())
    assert set(report["dev"]["recall"]) == {"NEG", "NEU", "POS"}
    assert report["data"]["dev_file"] == "twitter-2016devtest-A.txt"


@pytest.mark.slow
def test_smoke_training_writes_adapter_and_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    tweets = ["i love this", "worst day ever", "meeting at 3", "so happy today", "i hate mondays", "the bus is late"]
    labels = ["positive", "negative", "neutral", "positive", "negative", "neutral"]
    lines = [f"{i}\t{label}\t{text}" for i, (label, text) in enumerate(zip(labels, tweets, strict=True))]
    (data / "twitter-2013train-A.txt").write_text("\n".join(lines * 1) + "\n")
    (data / "twitter-2016devtest-A.txt").write_text("100\tpositive\tgreat game\n101\tnegative\tawful game\n")
    report = train(data, tmp_path / "out", TrainConfig(epochs=1, batch_size=2, calibration_size=2))
    assert report["steps"] == 2
    assert report["data"]["train_tweets"] == 4
    assert set(report["dev"]["confusion_matrix"]["labels"]) == {"NEG", "NEU", "POS"}
    assert (tmp_path / "out" / "adapter_model.safetensors").stat().st_size < 5 * 2**20
    assert json.loads((tmp_path / "out" / "training_report.json").read_text())["steps"] == 2


@pytest.mark.slow
def test_builtin_registers_and_reads_unambiguous_tweets(tmp_path: Path) -> None:
    registration = register_source("builtin", home=tmp_path / "home")
    assert registration.source == "builtin"
    assert registration.dev_macro_recall is not None and registration.dev_macro_recall > 0.6
    model = load_production_model(home=tmp_path / "home")
    tweets = {
        "I love this, best day ever!": "POS",
        "Thank you so much @JohnDoe, you made my day :) http://t.co/abc": "POS",
        "This is the worst service I have ever had. Absolutely disgusting.": "NEG",
        "I hate Mondays, everything went wrong and I am so angry": "NEG",
        "The meeting is scheduled for 3pm on Tuesday in room 204.": "NEU",
    }
    scored = model.predict(pd.DataFrame({"text": list(tweets)}))
    assert scored["predicted_sentiment"].tolist() == list(tweets.values())
    assert ((scored["predicted_score"] > 0.34) & (scored["predicted_score"] <= 1.0)).all()
