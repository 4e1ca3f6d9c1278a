"""Throughput of the registered model against a bare batched forward, the dev metric under bf16 / int8, and
`model predict` before and after issue #12 against gold's UDF scoring."""

import json
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
        seconds = _timed(lambda classifier=classifier: score_texts(classifier, texts, batch_size=batch_size))
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


ARROW_BATCH = 10_000
"""Spark's default `spark.sql.execution.arrow.maxRecordsPerBatch`: the most texts gold's UDF gets in one call."""
LEGACY_CHUNK = 4096


def _legacy_predict(tracking_uri: str | None, home: Path | None, input_path: Path, output_path: Path,
                    batch_size: int) -> float:
    """`model predict` before issue #12: the pyfunc loaded from `models:/...@production` (copied on every load) and
    called on chunks of 4096 rows. Returns the seconds spent in pyfunc.predict."""
    from tweet_sentiment.model.predict import read_rows
    from tweet_sentiment.model.registry import load_production_model

    pyfunc = load_production_model(tracking_uri, home)
    pyfunc.predict(pd.DataFrame({"text": ["warm-up"] * 64}))
    scoring = 0.0
    rows = list(read_rows(input_path))
    with output_path.open("w", encoding="utf-8") as sink:
        for start in range(0, len(rows), LEGACY_CHUNK):
            chunk = rows[start:start + LEGACY_CHUNK]
            texts = [row.get("text") if isinstance(row.get("text"), str) else "" for row in chunk]
            began = time.perf_counter()
            scored = pyfunc.predict(pd.DataFrame({"text": texts}), params={"batch_size": batch_size})
            scoring += time.perf_counter() - began
            for row, label, score in zip(chunk, scored["predicted_sentiment"], scored["predicted_score"], strict=True):
                sink.write(json.dumps({**row, "predicted_sentiment": label, "predicted_score": float(score)},
                                      ensure_ascii=False) + "\n")
    return scoring


def _gold_udf_scoring(model_dir: Path, texts: list[str]) -> float:
    """Seconds for the body of gold's pandas UDF (lakehouse.inference.score_batches): the pyfunc loaded from the
    cached local copy, `predict` on each Arrow batch of texts."""
    import mlflow.pyfunc

    pyfunc = mlflow.pyfunc.load_model(str(model_dir))
    pyfunc.predict(pd.DataFrame({"text": ["warm-up"] * 64}))  # a worker's earlier batches warmed it up
    began = time.perf_counter()
    for start in range(0, len(texts), ARROW_BATCH):
        pyfunc.predict(pd.DataFrame({"text": pd.Series(texts[start:start + ARROW_BATCH]).astype(object)}))
    return time.perf_counter() - began


def predict_benchmark(tracking_uri: str | None, home: Path | None, input_path: Path, work_dir: Path,
                      batch_size: int = 64, threads: int = 0) -> dict:
    """`model predict` before and after issue #12 and gold's UDF scoring, on one JSON-lines file in one process:
    tweets/s end to end (model load included) and for scoring alone (after: predict_file, its JSON reading and
    writing included), and the ratios between them. Each path scores 64 texts to warm up first (counted end to
    end), as gold's warm workers have; the new path's end to end starts with the version already in the local cache
    (the one-time copy is reported as after_first_copy_s)."""
    from tweet_sentiment.model.predict import count_rows, cpu_threads, load_classifier, predict_file, read_rows
    from tweet_sentiment.model.production import local_model_path, production_model_ref
    from tweet_sentiment.model.scoring import score_texts

    torch.set_num_threads(threads or cpu_threads())
    texts = [row["text"] if isinstance(row.get("text"), str) else "" for row in read_rows(input_path)]
    rows = len(texts)
    work_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    legacy_scoring = _legacy_predict(tracking_uri, home, input_path, work_dir / "legacy.jsonl", batch_size)
    legacy_total = time.perf_counter() - began
    began = time.perf_counter()
    local_model_path(production_model_ref(tracking_uri, home), home)  # the one-time copy, if not cached yet
    first_copy = time.perf_counter() - began
    began = time.perf_counter()
    model_dir = local_model_path(production_model_ref(tracking_uri, home), home)
    classifier = load_classifier(model_dir, threads)
    count_rows(input_path)  # the CLI's progress total
    score_texts(classifier, ["warm-up"] * 64)
    scoring_began = time.perf_counter()
    predict_file(classifier, input_path, work_dir / "predict.jsonl", batch_size)
    now = time.perf_counter()
    new_total, new_scoring = now - began, now - scoring_began
    gold_scoring = _gold_udf_scoring(model_dir, texts)
    result = {
        "rows": rows, "torch_threads": torch.get_num_threads(), "precision": classifier.precision,
        "before_end_to_end_tweets_per_s": rows / legacy_total, "before_scoring_tweets_per_s": rows / legacy_scoring,
        "after_end_to_end_tweets_per_s": rows / new_total, "after_scoring_tweets_per_s": rows / new_scoring,
        "gold_scoring_tweets_per_s": rows / gold_scoring, "after_first_copy_s": first_copy,
    }
    result["after_vs_before_end_to_end"] = legacy_total / new_total
    result["after_vs_before_scoring"] = legacy_scoring / new_scoring
    result["after_scoring_vs_gold"] = gold_scoring / new_scoring
    before, after = _labels(work_dir / "legacy.jsonl"), _labels(work_dir / "predict.jsonl")
    differing = sum(a != b for a, b in zip(before, after, strict=False)) + abs(len(before) - len(after))
    result["labels_differing_from_before"] = differing
    log.info("predict benchmark: %s", result)
    return result


def _labels(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["predicted_sentiment"] for line in handle]
