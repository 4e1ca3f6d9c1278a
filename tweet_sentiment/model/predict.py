"""`model predict`: score a JSON-lines file with the production model on gold's path (cached local copy, the pyfunc's
classifier, `scoring.score_texts`: length-sorted batches, dynamic padding, bf16 where native)."""

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from tweet_sentiment.model.classifier import SentimentClassifier
from tweet_sentiment.model.contract import PREDICTED_SCORE, PREDICTED_SENTIMENT, TEXT
from tweet_sentiment.model.scoring import score_texts

CHUNK_SIZE = 10_000
"""Rows read and scored at a time: Spark's Arrow batch size, so each chunk is sorted and batched as gold's are."""


class InputError(ValueError):
    """A line of the input file that is not a JSON object."""


def cpu_threads() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def load_classifier(model_dir: Path, threads: int = 0) -> SentimentClassifier:
    """The classifier of a local pyfunc folder, loaded by the pyfunc itself (precision and max length from its model
    config); `threads` torch threads, 0 for every core this process may use."""
    import mlflow.pyfunc
    import torch

    torch.set_num_threads(threads or cpu_threads())
    return mlflow.pyfunc.load_model(str(model_dir)).unwrap_python_model().classifier


def read_rows(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSON-lines file, blank lines skipped; raises InputError naming the bad line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: not JSON ({error})") from error
            if not isinstance(row, dict):
                raise InputError(f"{path}:{number}: expected a JSON object with a `{TEXT}` field")
            yield row


def count_rows(path: Path) -> int:
    """Non-blank lines: the total for the progress bar."""
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def _chunks(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _text(row: dict) -> str | None:
    text = row.get(TEXT)
    return text if isinstance(text, str) else None


def predict_file(classifier: SentimentClassifier, input_path: Path, output_path: Path, batch_size: int = 64,
                 chunk_size: int = CHUNK_SIZE, on_rows: Callable[[int], None] | None = None) -> int:
    """Write each input row with predicted_sentiment and predicted_score (0-1) added, in input order; return the row
    count. `on_rows` is called with the rows done after every batch (rows without text count at their chunk's end)."""
    written = 0
    with output_path.open("w", encoding="utf-8") as sink:
        for chunk in _chunks(read_rows(input_path), chunk_size):
            done = 0

            def advance(rows: int) -> None:
                nonlocal done
                done += rows
                if on_rows is not None:
                    on_rows(rows)

            scored = score_texts(classifier, [_text(row) for row in chunk], batch_size=batch_size, on_batch=advance)
            for row, label, score in zip(chunk, scored[PREDICTED_SENTIMENT], scored[PREDICTED_SCORE], strict=True):
                sink.write(json.dumps({**row, PREDICTED_SENTIMENT: label, PREDICTED_SCORE: float(score)},
                                      ensure_ascii=False) + "\n")
            if on_rows is not None and len(chunk) > done:
                on_rows(len(chunk) - done)
            written += len(chunk)
    return written
