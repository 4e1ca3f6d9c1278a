"""The compressed delta of a fine-tuned model: applied to the base, it rebuilds the tuned model's logits."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tweet_sentiment.model.delta import (
    DELTA_FILE,
    apply_delta,
    compress,
    expand,
    low_rank_factors,
    named_weights,
    save_delta,
)
from tweet_sentiment_tests.tiny_model import build_tiny_model

TEXTS = ["i love this best day ever", "the update at the meeting was awful", "bad", "@user it 's great !"]


def _load(folder: Path) -> torch.nn.Module:
    return AutoModelForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()


def _logits(model: torch.nn.Module, folder: Path) -> torch.Tensor:
    batch = AutoTokenizer.from_pretrained(folder)(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(**batch).logits


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in named_weights(model).items()}


def _tuned(folder: Path, steps: int = 20) -> torch.nn.Module:
    """The tiny model after a few seeded training steps on every weight but the word embeddings."""
    torch.manual_seed(1)
    model = _load(folder).train()
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    batch = AutoTokenizer.from_pretrained(folder)(TEXTS, padding=True, return_tensors="pt")
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(**batch).logits, torch.tensor([2, 0, 0, 2]))
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    return model.eval()


@pytest.fixture
def base_dir(tmp_path: Path) -> Path:
    return build_tiny_model(tmp_path / "base", {0: "NEG", 1: "NEU", 2: "POS"})


def test_full_rank_delta_round_trip_is_tight(base_dir: Path, tmp_path: Path) -> None:
    tuned = _tuned(base_dir)
    base = _snapshot(_load(base_dir))
    # Rank 32 is each matrix's full rank here, so every tensor ships whole (fp16): no truncation.
    save_delta(_snapshot(tuned), base, rank=32, folder=tmp_path / "delta")
    rebuilt = _load(base_dir)
    apply_delta(rebuilt, tmp_path / "delta")
    expected = _logits(tuned, base_dir)
    assert (expected - _logits(_load(base_dir), base_dir)).abs().max() > 0.1  # training moved the logits
    assert torch.allclose(_logits(rebuilt, base_dir), expected, atol=5e-4)


def test_frozen_word_embeddings_are_not_shipped(base_dir: Path) -> None:
    shipped = compress(_snapshot(_tuned(base_dir)), _snapshot(_load(base_dir)), rank=4)
    assert not any(key.startswith("embeddings.word_embeddings.") for key in shipped)
    assert "encoder.layer.0.attention.self.query.weight.lr_u" in shipped
    assert shipped["encoder.layer.0.attention.self.query.weight.lr_u"].dtype == torch.int8
    assert shipped["encoder.layer.0.attention.self.query.weight.lr_u"].shape == (32, 4)
    assert "classifier.weight.whole" in shipped


def test_exactly_low_rank_delta_is_recovered_up_to_int8(base_dir: Path) -> None:
    base = _snapshot(_load(base_dir))
    generator = torch.Generator().manual_seed(2)
    name = "encoder.layer.1.intermediate.dense.weight"  # [64, 32]
    rank_three = torch.randn(64, 3, generator=generator) @ torch.randn(3, 32, generator=generator) * 0.05
    tuned = {**base, name: base[name] + rank_three}
    rebuilt = expand(compress(tuned, base, rank=3), base)
    assert set(rebuilt) == {name}
    error = (rebuilt[name] - tuned[name]).abs().max()
    assert error < 0.01 * rank_three.abs().max()


def test_low_rank_delta_of_training_stays_close(base_dir: Path, tmp_path: Path) -> None:
    tuned = _tuned(base_dir)
    expected = _logits(tuned, base_dir)
    for rank, tolerance in ((8, 2e-3), (2, 2e-2)):  # a few steps on four texts: an update of low rank
        save_delta(_snapshot(tuned), _snapshot(_load(base_dir)), rank=rank, folder=tmp_path / f"r{rank}")
        rebuilt = _load(base_dir)
        apply_delta(rebuilt, tmp_path / f"r{rank}")
        assert (_logits(rebuilt, base_dir) - expected).abs().max() < tolerance


def test_dense_delta_error_shrinks_with_rank(base_dir: Path) -> None:
    base = _snapshot(_load(base_dir))
    generator = torch.Generator().manual_seed(4)
    tuned = {name: weight + 0.02 * torch.randn(weight.shape, generator=generator)
             if name.startswith("encoder.layer.") and weight.ndim == 2 else weight for name, weight in base.items()}
    name = "encoder.layer.0.attention.output.dense.weight"
    dense = (tuned[name] - base[name]).norm()
    errors = [float((expand(compress(tuned, base, rank), base)[name] - tuned[name]).norm() / dense)
              for rank in (2, 8, 24)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[0] < 1.0 and errors[2] < 0.6  # a random matrix has no low-rank structure to find


def test_low_rank_factors_are_the_best_approximation() -> None:
    matrix = torch.randn(12, 8, generator=torch.Generator().manual_seed(3))
    u, v = low_rank_factors(matrix, 8)
    assert torch.allclose(u @ v, matrix, atol=1e-5)
    u, v = low_rank_factors(matrix, 2)
    singular = torch.linalg.svdvals(matrix)
    assert torch.linalg.matrix_norm(matrix - u @ v) == pytest.approx(float(singular[2:].norm()), rel=1e-4)


def test_delta_without_its_base_weight_is_an_error(base_dir: Path, tmp_path: Path) -> None:
    base = _snapshot(_load(base_dir))
    name = "encoder.layer.0.output.dense.weight"
    shipped = compress({name: base[name] + 1.0}, {name: base[name]}, rank=2)
    with pytest.raises(KeyError, match="no base weight"):
        expand(shipped, {})
    save_delta({name: base[name] + 1.0}, {name: base[name]}, 2, tmp_path / "d")
    assert (tmp_path / "d" / DELTA_FILE).exists()
