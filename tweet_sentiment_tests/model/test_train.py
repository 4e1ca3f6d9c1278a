"""Pure pieces of training: length-bucketed batches, checkpoint checks and restore, temperature fitting."""

import random

import numpy as np
import pytest
import torch

from tweet_sentiment.model.train import _restore, _trainable_state
from tweet_sentiment.model.training_setup import check_steps, class_weights, fit_temperature, length_batches


def test_batches_cover_every_example_once_and_bucket_by_length() -> None:
    lengths = [random.Random(0).randint(3, 60) for _ in range(500)]
    batches = length_batches(lengths, 16, random.Random(1))
    assert sorted(i for batch in batches for i in batch) == list(range(500))
    assert max(len(b) for b in batches) == 16
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 10  # random batches would spread over ~50 tokens
    assert batches == length_batches(lengths, 16, random.Random(1))


def test_fit_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 3)) * 1.5
    labels = np.array([rng.choice(3, p=np.exp(z) / np.exp(z).sum()) for z in true_logits])
    temperature = fit_temperature(true_logits * 3.0, labels)  # a model three times too confident
    assert temperature == pytest.approx(3.0, rel=0.15)


def test_check_steps_every_quarter_epoch_and_at_the_end() -> None:
    assert check_steps(total_steps=10, steps_per_epoch=4, every=0.5) == {2, 4, 6, 8, 10}
    assert check_steps(total_steps=7, steps_per_epoch=8, every=0.25) == {2, 4, 6, 7}
    assert check_steps(total_steps=3, steps_per_epoch=3, every=0.1) == {1, 2, 3}
    assert check_steps(total_steps=10, steps_per_epoch=4, every=0) == set()


def test_restore_brings_back_only_the_trained_parameters() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    model[0].requires_grad_(False)
    state = _trainable_state(model)
    assert set(state) == {"1.weight", "1.bias"}
    saved = model[1].weight.detach().clone()
    with torch.no_grad():
        model[1].weight.add_(1.0)
    _restore(model, state)
    assert torch.equal(model[1].weight, saved)


def test_class_weights_balanced_sqrt_and_none() -> None:
    counts = np.array([100, 400, 500])
    balanced = class_weights(counts, "balanced")
    assert torch.allclose(balanced * torch.tensor(counts, dtype=torch.float32), torch.full((3,), 1000 / 3))
    assert torch.allclose(class_weights(counts, "sqrt"), balanced.sqrt())
    assert torch.equal(class_weights(counts, "none"), torch.ones(3))
    with pytest.raises(ValueError, match="class_weighting"):
        class_weights(counts, "inverse")
