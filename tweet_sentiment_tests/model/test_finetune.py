"""Full fine-tuning: layer-wise learning rates, and a seeded smoke run whose shipped delta rebuilds the model."""

import json
from pathlib import Path

import pytest
import torch

from tweet_sentiment.model import finetune
from tweet_sentiment.model.classifier import forward_logits
from tweet_sentiment.model.delta import DELTA_FILE, compress, expand, load_named_weights
from tweet_sentiment.model.sources import ASSEMBLY_FILE, assemble_builtin, base_classifier
from tweet_sentiment.model.train import TrainConfig, train
from tweet_sentiment_tests.tiny_model import build_tiny_model


def test_layer_decay_lowers_the_rate_per_layer_and_skips_frozen(tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(build_tiny_model(tmp_path, {0: "NEG", 1: "NEU",
                                                                                           2: "POS"}))
    finetune.freeze_word_embeddings(model)
    groups = finetune.parameter_groups(model, learning_rate=1.0, layer_decay=0.5)
    rate = {id(p): group["lr"] for group in groups for p in group["params"]}
    decay = {id(p): group["weight_decay"] for group in groups for p in group["params"]}
    named = dict(model.named_parameters())
    assert id(named["bert.embeddings.word_embeddings.weight"]) not in rate
    assert rate[id(named["classifier.weight"])] == 1.0
    assert rate[id(named["bert.encoder.layer.1.output.dense.weight"])] == 0.5
    assert rate[id(named["bert.encoder.layer.0.output.dense.weight"])] == 0.25
    assert rate[id(named["bert.embeddings.position_embeddings.weight"])] == 0.125
    assert decay[id(named["bert.encoder.layer.0.output.dense.bias"])] == 0.0
    assert decay[id(named["bert.encoder.layer.0.output.LayerNorm.weight"])] == 0.0
    assert decay[id(named["bert.encoder.layer.0.output.dense.weight"])] == 0.01


@pytest.mark.slow
def test_full_smoke_training_ships_a_delta_that_rebuilds_the_model(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    tweets = ["i love this", "worst day ever", "meeting at 3", "so happy today", "i hate mondays", "the bus is late"]
    labels = ["positive", "negative", "neutral", "positive", "negative", "neutral"]
    (data / "twitter-2013train-A.txt").write_text(
        "".join(f"{i}\t{label}\t{text}\n" for i, (label, text) in enumerate(zip(labels, tweets, strict=True))))
    (data / "twitter-2016devtest-A.txt").write_text("100\tpositive\tgreat game\n101\tnegative\tawful game\n")
    shipped: dict[str, dict] = {}
    save_delta = finetune.save_delta

    def keep_tuned(tuned: dict, base: dict, rank: int, folder: Path) -> Path:
        shipped["tuned"], shipped["base"] = tuned, base
        return save_delta(tuned, base, rank, folder)

    monkeypatch.setattr(finetune, "save_delta", keep_tuned)
    config = TrainConfig(method="full", epochs=2, batch_size=2, learning_rate=5e-4, calibration_size=2,
                         select_every=1.0, delta_rank=16, layer_decay=0.8)
    report = train(data, tmp_path / "out", config)

    assert report["steps"] == 4 and report["data"]["train_tweets"] == 4
    assert [point["step"] for point in report["held_out_curve"]] == [2, 4]
    assert set(report["compression"]) == {"uncompressed", "rank_16", "rank_32", "rank_64", "rank_128"}
    assert report["config"]["method"] == "full"
    assert json.loads((tmp_path / "out" / ASSEMBLY_FILE).read_text())["method"] == "full"
    assert (tmp_path / "out" / DELTA_FILE).stat().st_size < 5 * 2**20

    # The trained weights (the selected checkpoint) and their rank-16 delta, with the fitted temperature, against the
    # shipped assembly: the delta rebuilds exactly; the truncation moves the probabilities, not the labels.
    trained = base_classifier("cls")
    load_named_weights(trained, shipped["tuned"])
    truncated = base_classifier("cls")
    load_named_weights(truncated, shipped["tuned"])
    load_named_weights(truncated, expand(compress(shipped["tuned"], shipped["base"], 16), shipped["base"]))
    assembled = assemble_builtin(tmp_path / "out")
    batch = assembled.tokenizer(["i love this", "worst day ever", "meeting at 3", "great game"], padding=True,
                                return_tensors="pt")
    with torch.no_grad():
        expected = forward_logits(trained.eval(), batch) / report["temperature"]
        from_delta = forward_logits(truncated.eval(), batch) / report["temperature"]
        rebuilt = forward_logits(assembled.model, batch)
    name = "encoder.layer.5.output.dense.weight"
    assert not torch.equal(shipped["tuned"][name], shipped["base"][name])  # every layer trained
    assert torch.allclose(rebuilt, from_delta, atol=1e-4)
    assert torch.equal(rebuilt.argmax(dim=1), expected.argmax(dim=1))
    assert torch.allclose(rebuilt.softmax(dim=1), expected.softmax(dim=1), atol=3e-2)
