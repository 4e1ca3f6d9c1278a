"""Model sources and the shared scoring path, on tiny models built here."""

from pathlib import Path

import numpy as np
import pytest

from tweet_sentiment.model.classifier import SentimentClassifier, label_columns
from tweet_sentiment.model.scoring import predict_proba, score_texts
from tweet_sentiment.model.sources import ModelSourceError, load_hub, load_source
from tweet_sentiment_tests.tiny_model import build_tiny_model


def test_label_columns_maps_any_order_onto_neg_neu_pos() -> None:
    assert label_columns({0: "positive", 1: "negative", 2: "neutral"}).tolist() == [1, 2, 0]
    assert label_columns({0: "NEG", 1: "NEU", 2: "POS"}).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="do not map"):
        label_columns({0: "NEG", 1: "POS"})


def test_local_folder_source_maps_labels(tmp_path: Path) -> None:
    # Head always prefers output 0, which this model calls "positive".
    folder = build_tiny_model(tmp_path / "m", {0: "positive", 1: "negative", 2: "neutral"}, bias=[2.0, 0.0, 0.0])
    loaded = load_source(str(folder))
    assert loaded.source == str(folder.resolve())
    scored = score_texts(SentimentClassifier(loaded.model, loaded.tokenizer), ["i love this", "the update"])
    expected = float(np.exp(2.0) / (np.exp(2.0) + 2))
    assert scored["predicted_sentiment"].tolist() == ["POS", "POS"]
    assert scored["predicted_score"].tolist() == pytest.approx([expected, expected], abs=1e-5)


def test_folder_without_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelSourceError, match=r"no config\.json"):
        load_source(str(tmp_path))


def test_unknown_source_is_an_error() -> None:
    with pytest.raises(ModelSourceError, match="unknown model source"):
        load_source("not a source")


def test_hub_fails_fast_when_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelSourceError, match="HF_HUB_OFFLINE"):
        load_source("cardiffnlp/twitter-roberta-base-sentiment-latest")


def test_hub_fails_fast_when_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", "/nonexistent-cache")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused at once
    with pytest.raises(ModelSourceError, match="cannot reach"):
        load_hub("finiteautomata/bertweet-base-sentiment-analysis", timeout_s=2.0)


def test_score_texts_keeps_order_and_handles_empty(tiny_model_dir: Path) -> None:
    loaded = load_source(str(tiny_model_dir))
    classifier = SentimentClassifier(loaded.model, loaded.tokenizer)
    texts = ["i love this best day ever", None, "", "bad", "the update at the meeting was awful , terrible , sad"]
    probs = predict_proba(classifier, texts, batch_size=2)
    assert probs.shape == (5, 3)
    assert probs.sum(axis=1) == pytest.approx(np.ones(5), abs=1e-5)
    assert probs[1].tolist() == [0.0, 1.0, 0.0] and probs[2].tolist() == [0.0, 1.0, 0.0]
    # Batching and length sorting must not change any row: compare with one text at a time.
    for i in (0, 3, 4):
        alone = predict_proba(classifier, [texts[i]], batch_size=1)[0]
        assert probs[i] == pytest.approx(alone, abs=1e-5)
    scored = score_texts(classifier, texts, batch_size=2)
    assert list(scored.columns) == ["predicted_sentiment", "predicted_score"]
    assert scored["predicted_sentiment"].tolist()[1:3] == ["NEU", "NEU"]
    assert scored["predicted_score"].to_numpy() == pytest.approx(probs.max(axis=1))


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_stays_close(tiny_model_dir: Path, precision: str) -> None:
    loaded = load_source(str(tiny_model_dir))
    texts = ["i love this", "worst day ever", "meeting at the update"]
    full = predict_proba(SentimentClassifier(loaded.model, loaded.tokenizer), texts)
    reduced = predict_proba(SentimentClassifier(load_source(str(tiny_model_dir)).model, loaded.tokenizer,
                                                precision=precision), texts)
    assert np.abs(full - reduced).max() < 0.05


def test_unknown_precision_is_an_error(tiny_model_dir: Path) -> None:
    loaded = load_source(str(tiny_model_dir))
    with pytest.raises(ValueError, match="precision"):
        SentimentClassifier(loaded.model, loaded.tokenizer, precision="fp8")


def test_mean_pooling_setting_survives_save_and_load(tmp_path: Path) -> None:
    import torch

    from tweet_sentiment.model.classifier import POOLING_ATTR, forward_logits, mean_pool

    loaded = load_source(str(build_tiny_model(tmp_path / "m", {0: "NEG", 1: "NEU", 2: "POS"})))
    setattr(loaded.model.config, POOLING_ATTR, "mean")
    loaded.model.save_pretrained(tmp_path / "mean")
    loaded.tokenizer.save_pretrained(tmp_path / "mean")
    again = load_source(str(tmp_path / "mean"))
    assert getattr(again.model.config, POOLING_ATTR) == "mean"
    batch = dict(again.tokenizer(["i love this", "bad"], padding=True, return_tensors="pt"))
    with torch.no_grad():
        hidden = again.model.bert(**batch).last_hidden_state
        expected = again.model.classifier(again.model.bert.pooler(mean_pool(hidden, batch["attention_mask"])[:, None]))
        assert torch.allclose(forward_logits(again.model, batch), expected, atol=1e-6)
        assert not torch.allclose(again.model(**batch).logits, expected, atol=1e-4)


def test_auto_precision_follows_the_cpu(tiny_model_dir: Path, monkeypatch) -> None:
    from tweet_sentiment.model import classifier

    loaded = load_source(str(tiny_model_dir))
    monkeypatch.setattr(classifier, "native_bf16", lambda: True)
    assert SentimentClassifier(loaded.model, loaded.tokenizer, precision="auto").precision == "bf16"
    monkeypatch.setattr(classifier, "native_bf16", lambda: False)
    assert SentimentClassifier(loaded.model, loaded.tokenizer, precision="auto").precision == "fp32"
