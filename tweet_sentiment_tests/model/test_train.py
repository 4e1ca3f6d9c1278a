"""Pure pieces of training: length-bucketed batches and temperature fitting."""

import random

import numpy as np
import pytest

from tweet_sentiment.model.train import _batches, _fit_temperature


def test_batches_cover_every_example_once_and_bucket_by_length() -> None:
    lengths = [random.Random(0).randint(3, 60) for _ in range(500)]
    batches = _batches(lengths, 16, random.Random(1))
    assert sorted(i for batch in batches for i in batch) == list(range(500))
    assert max(len(b) for b in batches) == 16
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 10  # random batches would spread over ~50 tokens
    assert batches == _batches(lengths, 16, random.Random(1))


def test_fit_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 3)) * 1.5
    labels = np.array([rng.choice(3, p=np.exp(z) / np.exp(z).sum()) for z in true_logits])
    temperature = _fit_temperature(true_logits * 3.0, labels)  # a model three times too confident
    assert temperature == pytest.approx(3.0, rel=0.15)
