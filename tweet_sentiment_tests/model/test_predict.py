"""`model predict`'s file scoring: length-sorted batches come back in input order, with the slow path's labels."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tweet_sentiment.model.classifier import POOLING_ATTR, SentimentClassifier, forward_logits
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.normalize import normalize_tweet
from tweet_sentiment.model.predict import InputError, count_rows, predict_file
from tweet_sentiment.model.sources import load_source
from tweet_sentiment_tests.tiny_model import build_tiny_model

TEXTS = ["the update at the meeting was awful , terrible , sad and bad", "i love this", "", "worst day ever !",
         "@user http it 's the best , great , happy day ever at the meeting", "sad", "good good good", "hate it"]


def _one_at_a_time(classifier: SentimentClassifier, text: str) -> tuple[str, float]:
    """The slow path: one text, unbatched and unsorted, straight through the network."""
    normalised = normalize_tweet(text)
    if not normalised:
        return "NEU", 1.0
    batch = classifier.tokenizer([normalised], truncation=True, max_length=classifier.max_length, return_tensors="pt")
    with torch.inference_mode():
        probs = torch.softmax(forward_logits(classifier.model, batch), dim=-1)[0].numpy()[classifier.columns]
    return LABELS[int(probs.argmax())], float(probs.max())


@pytest.fixture
def classifier(tmp_path: Path) -> SentimentClassifier:
    loaded = load_source(str(build_tiny_model(tmp_path / "m", {0: "positive", 1: "negative", 2: "neutral"}, seed=3)))
    # A random tiny BERT's [CLS] barely depends on the text: read the token mean (padding then matters too) through
    # a large random pooler and head, so that labels differ from text to text.
    setattr(loaded.model.config, POOLING_ATTR, "mean")
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        loaded.model.bert.pooler.dense.weight.normal_(0.0, 3.0, generator=generator)
        loaded.model.classifier.weight.normal_(0.0, 3.0, generator=generator)
    return SentimentClassifier(loaded.model, loaded.tokenizer)


def test_sorted_batches_come_back_in_input_order(classifier: SentimentClassifier, tmp_path: Path) -> None:
    rows = [{"id": i, "text": text} for i, text in enumerate(TEXTS)] + [{"id": 99, "user": "no text"}]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(row) for row in rows[:4]) + "\n\n"
                      + "\n".join(json.dumps(row) for row in rows[4:]) + "\n")
    progress: list[int] = []
    written = predict_file(classifier, source, tmp_path / "out.jsonl", batch_size=2, chunk_size=5,
                           on_rows=progress.append)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert written == count_rows(source) == len(rows) == sum(progress)
    assert [row["id"] for row in out] == [row["id"] for row in rows]
    assert out[-1]["user"] == "no text" and out[-1]["predicted_sentiment"] == "NEU"
    expected = [_one_at_a_time(classifier, row.get("text", "")) for row in rows]
    assert [row["predicted_sentiment"] for row in out] == [label for label, _ in expected]
    assert np.allclose([row["predicted_score"] for row in out], [score for _, score in expected], atol=1e-5)
    assert len({row["predicted_sentiment"] for row in out}) > 1  # a model that says one label proves nothing


def test_chunk_size_does_not_change_the_output(classifier: SentimentClassifier, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": text}) + "\n" for text in TEXTS * 3))
    predict_file(classifier, source, tmp_path / "small.jsonl", batch_size=3, chunk_size=4)
    predict_file(classifier, source, tmp_path / "one.jsonl", batch_size=64, chunk_size=10_000)
    small = [json.loads(line) for line in (tmp_path / "small.jsonl").read_text().splitlines()]
    whole = [json.loads(line) for line in (tmp_path / "one.jsonl").read_text().splitlines()]
    assert [r["predicted_sentiment"] for r in small] == [r["predicted_sentiment"] for r in whole]
    assert np.allclose([r["predicted_score"] for r in small], [r["predicted_score"] for r in whole], atol=1e-5)


@pytest.mark.parametrize(("line", "message"), [("not json", "in.jsonl:2: not JSON"),
                                               ("[1, 2]", "in.jsonl:2: expected a JSON object")])
def test_bad_line_is_named(classifier: SentimentClassifier, tmp_path: Path, line: str, message: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "i love this"}\n' + line + "\n")
    with pytest.raises(InputError, match=message):
        predict_file(classifier, source, tmp_path / "out.jsonl")
