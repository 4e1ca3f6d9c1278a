"""Reading the SemEval 2013-2016 Task 4A tweets by path (never copied into the repository)."""

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tweet_sentiment.model.labels import canonical_label
from tweet_sentiment.model.normalize import normalize_tweet

log = logging.getLogger(__name__)

DEV_FILE = "twitter-2016devtest-A.txt"
"""Held out from training: the dev set every reported metric is measured on."""


def read_file(path: Path) -> pd.DataFrame:
    """One SemEval file as a DataFrame[tweet_id, label, text, norm, file]; label is NEG/NEU/POS."""
    rows: list[tuple[str, str, str]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].strip():
                log.warning("%s:%d: skipped a line without id, label and text", path.name, number)
                continue
            rows.append((parts[0].strip(), canonical_label(parts[1]), parts[2]))
    frame = pd.DataFrame(rows, columns=["tweet_id", "label", "text"])
    frame["norm"] = frame["text"].map(normalize_tweet)
    frame["file"] = path.name
    return frame


@dataclass(frozen=True)
class SemevalSplits:
    """Deduplicated training tweets and the dev set, with no dev tweet (by id or normalised text) in training."""

    train: pd.DataFrame
    dev: pd.DataFrame


def load_splits(data_dir: Path, dev_file: str = DEV_FILE) -> SemevalSplits:
    """Read every `*-A.txt` in DATA_DIR; dev is DEV_FILE, training is the rest, deduplicated and leak-free."""
    files = sorted(data_dir.glob("*-A.txt"))
    if not any(f.name == dev_file for f in files):
        raise FileNotFoundError(f"{data_dir} has no {dev_file}; point --data at the semeval-task4a folder")
    dev = read_file(data_dir / dev_file)
    train = pd.concat([read_file(f) for f in files if f.name != dev_file], ignore_index=True)
    before = len(train)
    train = train[~train["tweet_id"].isin(set(dev["tweet_id"])) & ~train["norm"].str.lower().isin(
        set(dev["norm"].str.lower()))]
    # Same tweet in several files: keep one copy; same text with conflicting labels: drop it.
    train = train.drop_duplicates(subset=["tweet_id"])
    key = train["norm"].str.lower()
    labels_per_text = train.groupby(key)["label"].transform("nunique")
    train = train[labels_per_text == 1].drop_duplicates(subset=["norm"]).reset_index(drop=True)
    log.info("semeval: %d training tweets (from %d lines), %d dev tweets", len(train), before, len(dev))
    return SemevalSplits(train=train, dev=dev.reset_index(drop=True))
