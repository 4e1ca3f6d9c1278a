"""The `model predict` benchmark runs all three paths on one file and compares their outputs, never their speed."""

import json
from pathlib import Path

from tweet_sentiment.model.benchmark import predict_benchmark
from tweet_sentiment.model.registry import register_source
from tweet_sentiment_tests.tiny_model import build_tiny_model


def test_predict_benchmark_scores_every_row_on_each_path(tmp_path: Path) -> None:
    home = tmp_path / "home"
    register_source(str(build_tiny_model(tmp_path / "m", {0: "NEG", 1: "NEU", 2: "POS"}, bias=[0.0, 3.0, 0.0])),
                    home=home)
    source = tmp_path / "in.jsonl"
    texts = ["i love this", "", "the update at the meeting", "bad"] * 5
    source.write_text("".join(json.dumps({"id": i, "text": text}) + "\n" for i, text in enumerate(texts)))
    result = predict_benchmark(None, home, source, tmp_path / "work", batch_size=4)
    assert result["rows"] == 20
    assert result["labels_differing_from_before"] == 0
    assert {"before_end_to_end_tweets_per_s", "after_scoring_tweets_per_s", "gold_scoring_tweets_per_s",
            "after_scoring_vs_gold", "after_vs_before_end_to_end"} <= set(result)
    scored = [json.loads(line) for line in (tmp_path / "work" / "predict.jsonl").read_text().splitlines()]
    assert [row["id"] for row in scored] == list(range(20))
    assert {row["predicted_sentiment"] for row in scored} == {"NEU"}
