"""Fine-tune MiniLM for tweet sentiment with LoRA (peft), calibrate the score, and write the shipped adapter + report.

The lower layers stay frozen and their outputs are computed once and cached, so each training step runs (and
back-propagates through) only the top layers: on two CPU cores this is what makes real fine-tuning affordable.
"""

import logging
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
from safetensors.torch import save_file
from sklearn.metrics import recall_score
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from tweet_sentiment.model.classifier import mean_pool
from tweet_sentiment.model.finetune import train_full
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.semeval import load_splits
from tweet_sentiment.model.sources import base_classifier, builtin_base_path
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

DEFAULT_CONFIG = TrainConfig()
"""The recipe of the shipped adapter (a frozen dataclass, so one shared default is safe)."""


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
        batch = tokenizer.pad({k: [encoded[k][i] for i in chunk] for k in encoded}, return_tensors="pt")
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


def train(data_dir: Path, out_dir: Path, config: TrainConfig = DEFAULT_CONFIG,
          progress: ProgressCallback | None = None) -> dict:
    """Train on every SemEval file but the dev set; write the shipped part, assembly.json and training_report.json
    to OUT_DIR (`config.method`: a LoRA adapter, or the compressed delta of full fine-tuning)."""
    if config.method == "full":
        return train_full(data_dir, out_dir, config, progress)
    if config.method != "lora":
        raise ValueError(f"method must be 'lora' or 'full', not {config.method!r}")
    started = time.time()
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    splits = load_splits(data_dir)
    train_frame, calibration = calibration_split(splits, config)
    if config.limit:
        train_frame = train_frame.iloc[:config.limit]
    tokenizer = AutoTokenizer.from_pretrained(builtin_base_path(), local_files_only=True)
    encoded = tokenizer(train_frame["norm"].tolist(), truncation=True, max_length=config.max_length)
    targets = torch.tensor([LABELS.index(label) for label in train_frame["label"]])
    counts = np.bincount(targets.numpy(), minlength=len(LABELS))
    weights = class_weights(counts, config.class_weighting)
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
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    checks = check_steps(total_steps, steps_per_epoch, config.select_every)
    if checks:
        held_encoded = tokenizer(calibration["norm"].tolist(), truncation=True, max_length=config.max_length)
        held_cache = _cache_lower_layers(model.base_model.model.bert, tokenizer, held_encoded, config.frozen_layers)
        held_targets = np.array([LABELS.index(label) for label in calibration["label"]])
    curve: list[dict] = []
    best_state: dict[str, torch.Tensor] | None = None
    best_step, best_held, step, running = 0, -1.0, 0, 0.0
    while step < total_steps:
        for batch_ids in length_batches(lengths, config.batch_size, rng):
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
    training = {"train_tweets": len(targets), "train_class_counts": dict(zip(LABELS, counts.tolist(), strict=True)),
                "train_seconds": round(train_seconds, 1), "steps": step,
                "selected_step": best_step if best_state is not None else step, "held_out_curve": curve}
    return calibrate_and_report(out_dir, splits, config, training)


