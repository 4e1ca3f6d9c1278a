"""Fine-tune MiniLM for tweet sentiment with LoRA (peft), calibrate the score, and write the shipped adapter + report.

The lower layers stay frozen and their outputs are computed once and cached, so each training step runs (and
back-propagates through) only the top layers: on two CPU cores this is what makes real fine-tuning affordable.
"""

import json
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
from safetensors.torch import save_file
from sklearn.metrics import recall_score
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from tweet_sentiment.model.classifier import mean_pool
from tweet_sentiment.model.evaluate import evaluate, write_report
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.semeval import DEV_FILE, SemevalSplits, load_splits
from tweet_sentiment.model.sources import ASSEMBLY_FILE, BUILTIN_BASE, assemble_builtin, base_classifier, builtin_base_path

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


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
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


def _class_weights(counts: np.ndarray, weighting: str) -> torch.Tensor:
    """Loss weights per class; balanced by default since macro-averaged recall counts each class equally."""
    balanced = counts.sum() / (len(counts) * counts)
    weights = {"balanced": balanced, "sqrt": np.sqrt(balanced), "none": np.ones(len(counts))}
    if weighting not in weights:
        raise ValueError(f"class_weighting must be one of {sorted(weights)}, not {weighting!r}")
    return torch.tensor(weights[weighting], dtype=torch.float32)


def _lora_model(config: TrainConfig) -> torch.nn.Module:
    top = "|".join(str(i) for i in range(config.frozen_layers, 6))
    lora = LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout, bias="none",
        target_modules=rf".*encoder\.layer\.({top})\..*(query|key|value|dense)$",
        modules_to_save=["classifier", "pooler"])
    return get_peft_model(base_classifier(config.pooling), lora)


def _extended_mask(bert: torch.nn.Module, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    extended, _ = bert._create_attention_masks(attention_mask=mask, encoder_attention_mask=None,
                                               embedding_output=hidden, encoder_hidden_states=None,
                                               past_key_values=None)
    return extended


@torch.no_grad()
def _cache_lower_layers(bert: torch.nn.Module, tokenizer: AutoTokenizer, encoded: dict, frozen: int,
                        batch_size: int = 128) -> list[torch.Tensor]:
    """Hidden states after the frozen bottom layers, one fp16 tensor [length, hidden] per example."""
    bert.eval()
    lengths = [len(ids) for ids in encoded["input_ids"]]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    cache: list[torch.Tensor | None] = [None] * len(lengths)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        batch = tokenizer.pad({k: [encoded[k][i] for i in chunk] for k in encoded.keys()}, return_tensors="pt")
        hidden = bert.embeddings(input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids"))
        extended = _extended_mask(bert, hidden, batch["attention_mask"])
        for layer in bert.encoder.layer[:frozen]:
            hidden = layer(hidden, extended)
        for row, i in enumerate(chunk):
            cache[i] = hidden[row, :lengths[i]].to(torch.float16).clone()
        if start // batch_size % 50 == 0:
            log.info("cached lower layers for %d/%d tweets", start + len(chunk), len(order))
    return cache  # type: ignore[return-value]


def _top_logits(model: torch.nn.Module, cache: list[torch.Tensor], batch_ids: list[int], frozen: int,
                pooling: str) -> torch.Tensor:
    """Logits from cached lower-layer states: pad the batch, run the top layers, pooler and head."""
    classifier = model.base_model.model
    bert = classifier.bert
    states = [cache[i] for i in batch_ids]
    longest = max(len(x) for x in states)
    hidden = torch.zeros(len(states), longest, states[0].shape[1])
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for row, x in enumerate(states):
        hidden[row, :len(x)] = x.float()
        mask[row, :len(x)] = 1
    extended = _extended_mask(bert, hidden, mask)
    for layer in bert.encoder.layer[frozen:]:
        hidden = layer(hidden, extended)
    # The same two poolings as classifier.forward_logits: the BERT pooler on [CLS], or on the token mean.
    pooled = bert.pooler(mean_pool(hidden, mask)[:, None, :] if pooling == "mean" else hidden)
    return classifier.classifier(classifier.dropout(pooled))


def _trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the trained parameters (LoRA, pooler, head): an in-memory checkpoint."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def _restore(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load an in-memory checkpoint from _trainable_state back into the model."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in state:
                p.copy_(state[name])


@torch.no_grad()
def _macro_recall(model: torch.nn.Module, cache: list[torch.Tensor], targets: np.ndarray, config: TrainConfig,
                  batch_size: int = 256) -> float:
    """Macro-averaged recall on cached held-out tweets, dropout off."""
    model.eval()
    order = sorted(range(len(cache)), key=lambda i: len(cache[i]))
    predicted = np.zeros(len(cache), dtype=np.int64)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        logits = _top_logits(model, cache, chunk, config.frozen_layers, config.pooling)
        predicted[chunk] = logits.argmax(dim=1).numpy()
    model.train()
    return float(recall_score(targets, predicted, labels=range(len(LABELS)), average="macro", zero_division=0))


def _check_steps(total_steps: int, steps_per_epoch: int, every: float) -> set[int]:
    """The steps after which the held-out macro-recall is checked: every EVERY epochs and at the last step."""
    if every <= 0:
        return set()
    interval = max(1, round(every * steps_per_epoch))
    return {*range(interval, total_steps + 1, interval), total_steps}


def _fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
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


def train(data_dir: Path, out_dir: Path, config: TrainConfig = TrainConfig(),
          progress: ProgressCallback | None = None) -> dict:
    """Train on every SemEval file but the dev set; write the shipped part, assembly.json and training_report.json
    to OUT_DIR (`config.method`: a LoRA adapter, or the compressed delta of full fine-tuning)."""
    if config.method == "full":
        from tweet_sentiment.model.finetune import train_full

        return train_full(data_dir, out_dir, config, progress)
    if config.method != "lora":
        raise ValueError(f"method must be 'lora' or 'full', not {config.method!r}")
    started = time.time()
    torch.set_num_threads(config.threads)
    _seed_everything(config.seed)
    splits = load_splits(data_dir)
    train_frame, calibration = _split(splits, config)
    if config.limit:
        train_frame = train_frame.iloc[:config.limit]
    tokenizer = AutoTokenizer.from_pretrained(builtin_base_path(), local_files_only=True)
    encoded = tokenizer(train_frame["norm"].tolist(), truncation=True, max_length=config.max_length)
    targets = torch.tensor([LABELS.index(label) for label in train_frame["label"]])
    counts = np.bincount(targets.numpy(), minlength=len(LABELS))
    class_weights = _class_weights(counts, config.class_weighting)
    log.info("training on %d tweets (class counts %s), calibrating on %d", len(targets), counts.tolist(),
             len(calibration))

    model = _lora_model(config)
    cache = _cache_lower_layers(model.base_model.model.bert, tokenizer, encoded, config.frozen_layers)
    log.info("cached the %d frozen layers in %.0fs", config.frozen_layers, time.time() - started)
    model.train()
    rng = random.Random(config.seed)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total_steps = max(1, int(steps_per_epoch * config.epochs))
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate,
                                  weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimiser, int(config.warmup * total_steps), total_steps)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights)
    checks = _check_steps(total_steps, steps_per_epoch, config.select_every)
    if checks:
        held_encoded = tokenizer(calibration["norm"].tolist(), truncation=True, max_length=config.max_length)
        held_cache = _cache_lower_layers(model.base_model.model.bert, tokenizer, held_encoded, config.frozen_layers)
        held_targets = np.array([LABELS.index(label) for label in calibration["label"]])
    curve: list[dict] = []
    best_state: dict[str, torch.Tensor] | None = None
    best_step, best_held, step, running = 0, -1.0, 0, 0.0
    while step < total_steps:
        for batch_ids in _batches(lengths, config.batch_size, rng):
            if step >= total_steps:
                break
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                logits = _top_logits(model, cache, batch_ids, config.frozen_layers, config.pooling)
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
                # Dev-set noise is large and training wobbles between NEG and NEU; the held-out training tweets
                # (never the dev set) pick the checkpoint.
                held = _macro_recall(model, held_cache, held_targets, config)
                curve.append({"step": step, "epoch": round(step / steps_per_epoch, 2),
                              "held_out_macro_recall": round(held, 4)})
                log.info("step %d: held-out macro-recall %.4f", step, held)
                if held > best_held:
                    best_state, best_step, best_held = _trainable_state(model), step, held
    if best_state is not None:
        _restore(model, best_state)
        log.info("kept the checkpoint of step %d", best_step)
    train_seconds = time.time() - started

    out_dir.mkdir(parents=True, exist_ok=True)
    model.peft_config["default"].save_pretrained(str(out_dir))
    # Half precision halves the shipped size; merging fp16 deltas into the fp32 base loses nothing measurable.
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in get_peft_model_state_dict(model).items()}
    save_file(state, str(out_dir / "adapter_model.safetensors"))
    training = {"train_tweets": int(len(targets)), "train_class_counts": dict(zip(LABELS, counts.tolist())),
                "train_seconds": round(train_seconds, 1), "steps": step,
                "selected_step": best_step if best_state is not None else step, "held_out_curve": curve}
    return calibrate_and_report(out_dir, splits, config, training)


def _split(splits: SemevalSplits, config: TrainConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training tweets, calibration tweets): a seeded shuffle of the training split, the first N held out."""
    shuffled = splits.train.sample(frac=1.0, random_state=config.seed).reset_index(drop=True)
    return shuffled.iloc[config.calibration_size:], shuffled.iloc[:config.calibration_size]


def calibrate_and_report(out_dir: Path, splits: SemevalSplits, config: TrainConfig, training: dict) -> dict:
    """Fit the temperature on the held-out calibration tweets, then measure the dev set and write the report."""
    _, calibration = _split(splits, config)
    truth = np.array([LABELS.index(x) for x in calibration["label"]])
    assembly = {"method": config.method, "pooling": config.pooling, "temperature": 1.0}
    (out_dir / ASSEMBLY_FILE).write_text(json.dumps(assembly))
    log_probs = evaluate(assemble_builtin(out_dir), calibration, logits_only=True)
    temperature = _fit_temperature(log_probs, truth)
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
                 "calibration_tweets": int(len(calibration)), "dev_file": DEV_FILE, "dev_tweets": int(len(splits.dev))},
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
