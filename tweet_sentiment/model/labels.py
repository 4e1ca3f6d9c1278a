"""The seed's label set (NEG/NEU/POS) and its sentiment ids (negative 0, positive 1, neutral -1)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

LABELS: tuple[str, ...] = ("NEG", "NEU", "POS")
"""Class order of every model this project registers: index i of the logits is LABELS[i]."""

LABEL_TO_SENTIMENT_ID: dict[str, int] = {"NEG": 0, "POS": 1, "NEU": -1}
SENTIMENT_ID_TO_LABEL: dict[int, str] = {v: k for k, v in LABEL_TO_SENTIMENT_ID.items()}

# Spellings used by hub models and data sets, mapped onto the seed's labels.
_ALIASES: dict[str, str] = {
    "neg": "NEG", "negative": "NEG", "label_0": "NEG",
    "neu": "NEU", "neutral": "NEU", "label_1": "NEU",
    "pos": "POS", "positive": "POS", "label_2": "POS",
}


def canonical_label(name: str) -> str:
    """Map a label spelling ('negative', 'NEG', 'LABEL_0', ...) to NEG/NEU/POS; raise ValueError if unknown."""
    key = name.strip().lower()
    if key not in _ALIASES:
        raise ValueError(f"unknown sentiment label {name!r}; expected one of negative/neutral/positive or {LABELS}")
    return _ALIASES[key]


def sentiment_id(label: str) -> int:
    """The seed's sentiment id for a label: NEG 0, POS 1, NEU -1."""
    return LABEL_TO_SENTIMENT_ID[canonical_label(label)]


def label_from_sentiment_id(value: int) -> str:
    """The label for a seed sentiment id (0, 1 or -1)."""
    if value not in SENTIMENT_ID_TO_LABEL:
        raise ValueError(f"unknown sentiment id {value!r}; expected 0 (NEG), 1 (POS) or -1 (NEU)")
    return SENTIMENT_ID_TO_LABEL[value]


def sentiment_ids(labels: "pd.Series") -> "pd.Series":
    """Vectorised `sentiment_id` for a column of NEG/NEU/POS labels (what gold stores as predicted_sentiment_id)."""
    return labels.map(LABEL_TO_SENTIMENT_ID).astype("int64")
