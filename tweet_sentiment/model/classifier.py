"""A loaded sequence classifier whose outputs are read as the seed's NEG/NEU/POS labels."""

from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from tweet_sentiment.model.labels import LABELS, canonical_label

PRECISIONS = ("fp32", "bf16", "int8")
AUTO = "auto"
"""bf16 autocast where the CPU computes bf16 natively (AVX-512 BF16 / AMX), else fp32: measured 1.7x faster with
the dev metric unchanged on such CPUs, and slower than fp32 where bf16 is emulated."""
POOLING_ATTR = "tweet_sentiment_pooling"
"""config.json key: "mean" makes the head read the mean of the token states (how MiniLM was trained) not [CLS]."""


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the token states where the attention mask is 1."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def forward_logits(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Logits of a sequence classifier; with mean pooling in its config, the BERT pooler reads the token mean."""
    if getattr(model.config, POOLING_ATTR, "cls") != "mean":
        return model(**batch).logits
    encoder = model.base_model
    hidden = encoder(**batch).last_hidden_state
    pooled = encoder.pooler(mean_pool(hidden, batch["attention_mask"])[:, None, :])  # the pooler reads position 0
    return model.classifier(model.dropout(pooled))


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX). Not oneDNN's `_is_mkldnn_bf16_supported`: that
    is true on any AVX-512 CPU, where bf16 is emulated and autocast ran 4x slower than fp32 (docs/model.md)."""
    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(check()) for check in checks if check is not None)


def resolve_precision(precision: str) -> str:
    """The concrete precision for `precision`; AUTO picks bf16 or fp32 for this CPU."""
    if precision == AUTO:
        return "bf16" if native_bf16() else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {(*PRECISIONS, AUTO)}, not {precision!r}")
    return precision


def label_columns(id2label: dict[int, str]) -> np.ndarray:
    """For each of LABELS (NEG, NEU, POS), the model's output column holding it; raises if one is missing."""
    by_label = {canonical_label(name): int(index) for index, name in id2label.items()}
    missing = [label for label in LABELS if label not in by_label]
    if missing or len(id2label) != len(LABELS):
        raise ValueError(f"model labels {dict(id2label)} do not map onto {LABELS} (missing {missing})")
    return np.array([by_label[label] for label in LABELS])


@dataclass
class SentimentClassifier:
    """A HuggingFace model + tokenizer, the column order of NEG/NEU/POS in its logits, and scoring settings."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    max_length: int = 128
    precision: str = "fp32"
    columns: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.precision = resolve_precision(self.precision)
        self.columns = label_columns(self.model.config.id2label)
        self.model.eval()
        if self.precision == "int8":
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
