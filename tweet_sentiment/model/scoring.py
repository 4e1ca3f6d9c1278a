"""Batched scoring of tweet texts: normalise, sort by length, pad each batch dynamically, softmax, map labels."""

import logging
from collections.abc import Callable, Sequence
from contextlib import nullcontext

import numpy as np
import pandas as pd
import torch

from tweet_sentiment.model.classifier import SentimentClassifier, forward_logits
from tweet_sentiment.model.contract import PREDICTED_SCORE, PREDICTED_SENTIMENT
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.normalize import normalize_tweet

log = logging.getLogger(__name__)

_NEU = LABELS.index("NEU")


def predict_proba(classifier: SentimentClassifier, texts: Sequence[str | None], batch_size: int = 64,
                  on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """Probabilities [n, 3] in LABELS order (NEG, NEU, POS); empty or None texts get NEU with probability 1."""
    probs = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    normalised = [normalize_tweet(t) if isinstance(t, str) else "" for t in texts]
    empty = np.array([not t for t in normalised], dtype=bool)
    probs[empty, _NEU] = 1.0
    todo = np.flatnonzero(~empty)
    if len(todo) == 0:
        return probs
    encoded = classifier.tokenizer([normalised[i] for i in todo], truncation=True, max_length=classifier.max_length)
    ids = encoded["input_ids"]
    # Sorting by length keeps padding (wasted compute) small within each batch.
    order = sorted(range(len(todo)), key=lambda k: len(ids[k]))
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if classifier.precision == "bf16" else nullcontext())
    with torch.inference_mode(), autocast:
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = classifier.tokenizer.pad({key: [encoded[key][k] for k in chunk] for key in encoded},
                                             return_tensors="pt")
            logits = forward_logits(classifier.model, batch).float()
            chunk_probs = torch.softmax(logits, dim=-1).numpy()[:, classifier.columns]
            probs[todo[chunk]] = chunk_probs
            if on_batch is not None:
                on_batch(len(chunk))
    return probs


def score_texts(classifier: SentimentClassifier, texts: Sequence[str | None], batch_size: int = 64,
                on_batch: Callable[[int], None] | None = None) -> pd.DataFrame:
    """DataFrame[predicted_sentiment (NEG/NEU/POS), predicted_score (probability of that label, 0-1)], input order."""
    probs = predict_proba(classifier, texts, batch_size=batch_size, on_batch=on_batch)
    best = probs.argmax(axis=1)
    return pd.DataFrame({
        PREDICTED_SENTIMENT: np.array(LABELS, dtype=object)[best],
        PREDICTED_SCORE: probs[np.arange(len(probs)), best].astype(np.float64),
    })
