"""Full fine-tuning of MiniLM for tweet sentiment: every encoder weight trained, shipped as a compressed delta.

The word embeddings stay frozen (the vocabulary matrix is 30k x 384: a delta of it would not fit the shipped
budget, and most of its rows never see a tweet); everything else trains, with optional layer-wise learning-rate
decay. The selection, calibration and report are the ones LoRA training uses.
"""

import logging
import math
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import recall_score
from transformers import AutoTokenizer, PreTrainedModel, get_linear_schedule_with_warmup

from tweet_sentiment.model.classifier import forward_logits
from tweet_sentiment.model.delta import compress, expand, load_named_weights, named_weights, save_delta
from tweet_sentiment.model.evaluate import evaluate
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.semeval import load_splits
from tweet_sentiment.model.sources import BUILTIN_BASE, LoadedSource, base_classifier, builtin_base_path
from tweet_sentiment.model.training_setup import (
    ProgressCallback,
    TrainConfig,
    calibrate_and_report,
    calibration_split,
    check_steps,
    class_weights,
    length_batches,
    seed_everything,
)

log = logging.getLogger(__name__)

FROZEN = ("embeddings.word_embeddings.weight",)
_NO_DECAY = ("bias", "LayerNorm.weight")


def _layer_of(name: str, layers: int) -> int:
    """Depth of a parameter for layer-wise decay: embeddings 0, encoder layer i -> i + 1, pooler and head on top."""
    if ".embeddings." in f".{name}":
        return 0
    marker = "encoder.layer."
    if marker in name:
        return int(name.split(marker, 1)[1].split(".", 1)[0]) + 1
    return layers + 1


def parameter_groups(model: PreTrainedModel, learning_rate: float, layer_decay: float,
                     weight_decay: float = 0.01) -> list[dict]:
    """AdamW groups: the learning rate shrinks by `layer_decay` per layer below the head; no weight decay on biases
    and LayerNorm; the frozen word embeddings left out."""
    layers = model.config.num_hidden_layers
    groups: dict[tuple[int, bool], dict] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        depth = _layer_of(name, layers)
        decays = not name.endswith(_NO_DECAY)
        group = groups.setdefault((depth, decays), {
            "params": [], "lr": learning_rate * layer_decay ** (layers + 1 - depth),
            "weight_decay": weight_decay if decays else 0.0})
        group["params"].append(parameter)
    return list(groups.values())


def freeze_word_embeddings(model: PreTrainedModel) -> None:
    for name, parameter in model.named_parameters():
        if name.endswith(FROZEN):
            parameter.requires_grad_(False)


def encoder_state(model: PreTrainedModel) -> dict[str, torch.Tensor]:
    """A copy of the model's weights, named as in the base checkpoint: an in-memory checkpoint."""
    return {name: tensor.detach().clone() for name, tensor in named_weights(model).items()}


def _tokenized_batch(tokenizer: AutoTokenizer, encoded: dict, ids: list[int]) -> dict[str, torch.Tensor]:
    return tokenizer.pad({key: [encoded[key][i] for i in ids] for key in encoded}, return_tensors="pt")


@torch.no_grad()
def held_out_macro_recall(model: PreTrainedModel, tokenizer: AutoTokenizer, encoded: dict, targets: np.ndarray,
                          batch_size: int = 256) -> float:
    """Macro-averaged recall on held-out training tweets, dropout off."""
    model.eval()
    order = sorted(range(len(targets)), key=lambda i: len(encoded["input_ids"][i]))
    predicted = np.zeros(len(targets), dtype=np.int64)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        predicted[chunk] = forward_logits(model, _tokenized_batch(tokenizer, encoded, chunk)).argmax(dim=1).numpy()
    model.train()
    return float(recall_score(targets, predicted, labels=range(len(LABELS)), average="macro", zero_division=0))


def train_full(data_dir: Path, out_dir: Path, config: TrainConfig, progress: ProgressCallback | None = None) -> dict:
    """Fine-tune every MiniLM weight but the word embeddings; write the compressed delta, assembly and report."""
    started = time.time()
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    splits = load_splits(data_dir)
    train_frame, held_out = calibration_split(splits, config)
    if config.limit:
        train_frame = train_frame.iloc[:config.limit]
    tokenizer = AutoTokenizer.from_pretrained(builtin_base_path(), local_files_only=True)
    encoded = _encode(tokenizer, train_frame, config)
    targets = torch.tensor([LABELS.index(label) for label in train_frame["label"]])
    counts = np.bincount(targets.numpy(), minlength=len(LABELS))
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(counts, config.class_weighting))
    log.info("full fine-tuning on %d tweets (class counts %s)", len(targets), counts.tolist())

    model = base_classifier(config.pooling)
    base = encoder_state(model)
    freeze_word_embeddings(model)
    model.train()
    lengths = [len(ids) for ids in encoded["input_ids"]]
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total_steps = max(1, int(steps_per_epoch * config.epochs))
    optimiser = torch.optim.AdamW(parameter_groups(model, config.learning_rate, config.layer_decay))
    schedule = get_linear_schedule_with_warmup(optimiser, int(config.warmup * total_steps), total_steps)
    checks = check_steps(total_steps, steps_per_epoch, config.select_every)
    held_encoded = _encode(tokenizer, held_out, config) if checks else {}
    held_targets = np.array([LABELS.index(label) for label in held_out["label"]])
    rng = random.Random(config.seed)
    curve: list[dict] = []
    best_state, best_step, best_held, step, running = None, 0, -1.0, 0, 0.0
    while step < total_steps:
        for batch_ids in length_batches(lengths, config.batch_size, rng):
            if step >= total_steps:
                break
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                logits = forward_logits(model, _tokenized_batch(tokenizer, encoded, batch_ids))
            loss = loss_fn(logits.float(), targets[batch_ids])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad(set_to_none=True)
            step += 1
            running = loss.item() if step == 1 else 0.98 * running + 0.02 * loss.item()
            if progress is not None:
                progress(step, total_steps, running)
            if step % 100 == 0:
                log.info("step %d/%d loss %.4f, %.1f tweets/s", step, total_steps, running,
                         step * config.batch_size / (time.time() - started))
            if step in checks:
                held = held_out_macro_recall(model, tokenizer, held_encoded, held_targets)
                curve.append({"step": step, "epoch": round(step / steps_per_epoch, 2),
                              "held_out_macro_recall": round(held, 4)})
                log.info("step %d: held-out macro-recall %.4f", step, held)
                if held > best_held:
                    best_state, best_step, best_held = encoder_state(model), step, held
    tuned = best_state if best_state is not None else encoder_state(model)
    train_seconds = time.time() - started
    save_delta(tuned, base, config.delta_rank, out_dir)
    training = {"compression": compression_costs(model, tokenizer, tuned, base, splits.dev, config),
                "train_tweets": len(targets), "train_class_counts": dict(zip(LABELS, counts.tolist(), strict=True)),
                "train_seconds": round(train_seconds, 1), "steps": step,
                "selected_step": best_step if best_state is not None else step, "held_out_curve": curve}
    return calibrate_and_report(out_dir, splits, config, training)


def compression_costs(model: PreTrainedModel, tokenizer: AutoTokenizer, tuned: dict[str, torch.Tensor],
                      base: dict[str, torch.Tensor], dev: pd.DataFrame, config: TrainConfig,
                      ranks: tuple[int, ...] = (32, 64, 128)) -> dict[str, dict]:
    """Dev macro-recall of the uncompressed weights and of the delta at several ranks, with the shipped bytes.

    Labels do not depend on the calibration temperature fitted later, so these compare with the final dev metric.
    """
    costs = {}
    for rank in sorted({*ranks, config.delta_rank, 0}):
        weights = tuned if rank == 0 else expand(compress(tuned, base, rank), base)
        load_named_weights(model, weights)
        metrics = evaluate(LoadedSource(model.eval(), tokenizer, f"rank {rank}", BUILTIN_BASE), dev)
        size = 0 if rank == 0 else sum(t.numel() * t.element_size() for t in compress(tuned, base, rank).values())
        costs["uncompressed" if rank == 0 else f"rank_{rank}"] = {"macro_recall": metrics["macro_recall"],
                                                                   "recall": metrics["recall"], "tensor_bytes": size}
        log.info("dev macro-recall, %s: %.4f", "uncompressed" if rank == 0 else f"rank {rank}", metrics["macro_recall"])
    return costs


def _encode(tokenizer: AutoTokenizer, frame: pd.DataFrame, config: TrainConfig) -> dict:
    return tokenizer(frame["norm"].tolist(), truncation=True, max_length=config.max_length)
