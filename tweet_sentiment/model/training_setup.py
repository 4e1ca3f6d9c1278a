"""What LoRA training (train.py) and full fine-tuning (finetune.py) share: the config, seeding, length-bucketed
batches, class weights, checkpoint checks, the calibration split, and the calibration and report at the end."""

import json
import logging
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tweet_sentiment.model.evaluate import evaluate, write_report
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.semeval import DEV_FILE, SemevalSplits
from tweet_sentiment.model.sources import ASSEMBLY_FILE, BUILTIN_BASE, assemble_builtin

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, float], None]
"""Called after each optimiser step with (step, total_steps, running loss)."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines the shipped adapter; the same config and seed reproduce it."""

    epochs: float = 2.0
    batch_size: int = 32
    learning_rate: float = 8e-4
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    frozen_layers: int = 3
    pooling: str = "cls"
    max_length: int = 64
    calibration_size: int = 2000
    seed: int = 13
    limit: int | None = None
    bf16: bool = False
    threads: int = 1
    select_every: float = 0.0
    """Epochs between checks of the held-out macro-recall; the best check is kept (0: keep the last step)."""
    class_weighting: str = "balanced"
    """Cross-entropy class weights: `balanced` (inverse frequency), `sqrt` (its square root) or `none`."""
    method: str = "lora"
    """`lora` (adapter on the top layers, lower layers cached) or `full` (every weight but the word embeddings)."""
    layer_decay: float = 1.0
    """Full fine-tuning: the learning rate is multiplied by this once per layer below the head (1: no decay)."""
    warmup: float = 0.06
    """Share of the steps spent warming the learning rate up."""
    delta_rank: int = 64
    """Full fine-tuning: the rank of the shipped low-rank delta of each encoder matrix."""

    def describe(self) -> str:
        """The recipe in words, for the training report and the model card."""
        if self.method == "full":
            decay = f", layer-wise lr decay {self.layer_decay}" if self.layer_decay != 1.0 else ""
            return (f"full fine-tuning of every weight but the word embeddings (lr {self.learning_rate}{decay}, "
                    f"{self.epochs} epochs, {self.pooling} pooling), shipped as a rank-{self.delta_rank} int8 delta "
                    "from the PyPI base")
        return (f"LoRA r={self.lora_r} on every linear layer of the top {6 - self.frozen_layers} encoder layers "
                f"(bottom layers frozen and cached) + trained pooler ({self.pooling} pooling) and 3-way head")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def length_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length examples (length-bucketed within chunks of 50 batches) to cut padding."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def class_weights(counts: np.ndarray, weighting: str) -> torch.Tensor:
    """Loss weights per class; balanced by default since macro-averaged recall counts each class equally."""
    balanced = counts.sum() / (len(counts) * counts)
    weights = {"balanced": balanced, "sqrt": np.sqrt(balanced), "none": np.ones(len(counts))}
    if weighting not in weights:
        raise ValueError(f"class_weighting must be one of {sorted(weights)}, not {weighting!r}")
    return torch.tensor(weights[weighting], dtype=torch.float32)


def check_steps(total_steps: int, steps_per_epoch: int, every: float) -> set[int]:
    """The steps after which the held-out macro-recall is checked: every EVERY epochs and at the last step."""
    if every <= 0:
        return set()
    interval = max(1, round(every * steps_per_epoch))
    return {*range(interval, total_steps + 1, interval), total_steps}


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising negative log-likelihood on held-out logits (Guo et al., 2017)."""
    x = torch.tensor(logits, dtype=torch.float32)
    y = torch.tensor(labels)
    log_t = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(x / log_t.exp(), y)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(log_t.exp())


def calibration_split(splits: SemevalSplits, config: TrainConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training tweets, calibration tweets): a seeded shuffle of the training split, the first N held out."""
    shuffled = splits.train.sample(frac=1.0, random_state=config.seed).reset_index(drop=True)
    return shuffled.iloc[config.calibration_size:], shuffled.iloc[:config.calibration_size]


def calibrate_and_report(out_dir: Path, splits: SemevalSplits, config: TrainConfig, training: dict) -> dict:
    """Fit the temperature on the held-out calibration tweets, then measure the dev set and write the report."""
    _, calibration = calibration_split(splits, config)
    truth = np.array([LABELS.index(x) for x in calibration["label"]])
    assembly = {"method": config.method, "pooling": config.pooling, "temperature": 1.0}
    (out_dir / ASSEMBLY_FILE).write_text(json.dumps(assembly))
    log_probs = evaluate(assemble_builtin(out_dir), calibration, logits_only=True)
    temperature = fit_temperature(log_probs, truth)
    assembly["temperature"] = temperature
    (out_dir / ASSEMBLY_FILE).write_text(json.dumps(assembly, indent=2) + "\n")
    log.info("calibration: temperature %.3f", temperature)
    shipped = assemble_builtin(out_dir)
    metrics = evaluate(shipped, splits.dev)
    metrics_bf16 = evaluate(shipped, splits.dev, precision="bf16")
    report = {
        "base_model": BUILTIN_BASE,
        "method": (f"{config.describe()}; cross-entropy with {config.class_weighting} class weights; "
                   + ("checkpoint with the best macro-recall on held-out training tweets; " if config.select_every > 0
                      else "") + "temperature fitted on held-out training tweets"),
        "data": {**{k: v for k, v in training.items() if k.startswith("train_") and k != "train_seconds"},
                 "calibration_tweets": len(calibration), "dev_file": DEV_FILE, "dev_tweets": len(splits.dev)},
        "config": asdict(config),
        "temperature": temperature,
        "train_seconds": training["train_seconds"],
        "steps": training["steps"],
        "selected_step": training.get("selected_step", training["steps"]),
        "held_out_curve": training.get("held_out_curve", []),
        "dev": metrics,
        "dev_bf16": {k: metrics_bf16[k] for k in ("macro_recall", "recall")},
        "shipped_bytes": sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file() and p.suffix != ".json"),
        **({"compression": training["compression"]} if "compression" in training else {}),
    }
    write_report(report, out_dir)
    return report
