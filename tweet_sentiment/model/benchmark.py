"""Throughput of the registered model against a bare batched forward, and the dev metric under bf16 / int8."""

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from tweet_sentiment.model.classifier import SentimentClassifier, forward_logits
from tweet_sentiment.model.evaluate import evaluate
from tweet_sentiment.model.semeval import DEV_FILE, read_file
from tweet_sentiment.model.sources import LoadedSource

log = logging.getLogger(__name__)


def benchmark_texts(data_dir: Path, count: int) -> list[str]:
    """COUNT real tweets for timing: the dev file, then other SemEval files (raw text, as gold would see it)."""
    files = [data_dir / DEV_FILE, *sorted(p for p in data_dir.glob("*-A.txt") if p.name != DEV_FILE)]
    texts: list[str] = []
    for path in files:
        texts.extend(read_file(path)["text"].tolist())
        if len(texts) >= count:
            break
    return texts[:count]


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def bare_forward(loaded: LoadedSource, texts: list[str], batch_size: int = 64, max_length: int = 128) -> None:
    """The baseline: tokenize each batch in input order, pad to its longest text, one forward, softmax."""
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = loaded.tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                                     max_length=max_length, return_tensors="pt")
            torch.softmax(forward_logits(loaded.model, batch), dim=-1)


def run_benchmark(pyfunc_predict: Callable[[pd.DataFrame], pd.DataFrame], loaded: LoadedSource, texts: list[str],
                  dev: pd.DataFrame | None, batch_size: int = 64) -> list[dict]:
    """Rows of {variant, tweets_per_s, dev_macro_recall}: registered pyfunc, bare forward, fp32/bf16/int8 scoring."""
    rows: list[dict] = []
    frame = pd.DataFrame({"text": texts})
    pyfunc_predict(frame.head(64))  # warm-up
    seconds = _timed(lambda: pyfunc_predict(frame))
    rows.append({"variant": "registered pyfunc (production alias)", "tweets_per_s": len(texts) / seconds})
    bare_forward(loaded, texts[:64])
    seconds = _timed(lambda: bare_forward(loaded, texts, batch_size))
    rows.append({"variant": "bare batched torch forward (fp32, input order)", "tweets_per_s": len(texts) / seconds})
    from tweet_sentiment.model.scoring import score_texts

    for precision in ("fp32", "bf16", "int8"):
        model = loaded.model if precision != "int8" else _copy(loaded).model
        classifier = SentimentClassifier(model, loaded.tokenizer, precision=precision)
        score_texts(classifier, texts[:64])
        seconds = _timed(lambda: score_texts(classifier, texts, batch_size=batch_size))
        recall = (evaluate(LoadedSource(classifier.model, loaded.tokenizer, loaded.source, loaded.base_model), dev,
                           precision="fp32" if precision == "int8" else precision)["macro_recall"]
                  if dev is not None else None)
        rows.append({"variant": f"score_texts {precision} (length-sorted)", "tweets_per_s": len(texts) / seconds,
                     "dev_macro_recall": recall})
        log.info("%s: %.0f tweets/s, dev macro-recall %s", precision, len(texts) / seconds, recall)
    return rows


def _copy(loaded: LoadedSource) -> LoadedSource:
    import copy

    return LoadedSource(copy.deepcopy(loaded.model), loaded.tokenizer, loaded.source, loaded.base_model)
