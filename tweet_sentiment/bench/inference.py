"""Gold scoring through Spark + MLflow against what a user would write: a transformers pipeline, a bare forward."""

import os
import statistics
from typing import Any

import torch
from pyspark.sql import functions as F
from transformers import pipeline

from tweet_sentiment.bench.timing import ratio, timed_each
from tweet_sentiment.bench.workspace import BenchHome
from tweet_sentiment.defs.asset_keys import BRONZE, BRONZE_QUARANTINE, GOLD, SILVER, SILVER_QUARANTINE
from tweet_sentiment.lakehouse.table_names import SILVER_TABLE
from tweet_sentiment.model.benchmark import bare_forward
from tweet_sentiment.model.sources import LoadedSource
from tweet_sentiment.model.spark_scoring import local_model_path

INGESTION_ASSETS = [BRONZE, BRONZE_QUARANTINE, SILVER, SILVER_QUARANTINE]
BATCH_SIZE = 64


def _throughput(times: dict[str, float], items: int) -> dict[str, float]:
    return {**times, "items": items, "per_s_median": items / times["median_s"], "per_s_best": items / times["min_s"]}


def _silver_batch(home: BenchHome, tweets: int, seed: int) -> tuple[str, int, list[str]]:
    """Land one file of `tweets` tweets and build its bronze and silver (not timed); its key, silver rows and
    distinct cleaned texts."""
    home.land(tweets, files=1, seed=seed, prefix=f"inference-{seed}")
    (batch,) = home.ingest()
    home.materialize(batch, INGESTION_ASSETS)
    silver = home.table(SILVER_TABLE).where(F.col("batch") == batch)
    texts = [r.cleaned_text for r in silver.select("cleaned_text").distinct().collect()]
    return batch, silver.count(), texts


def bench_inference(home: BenchHome, tweets: int, repeats: int, seed: int = 5) -> dict[str, Any]:
    """Score silver partitions of about `tweets` rows with the gold asset, the pipeline and a bare forward.

    Each timed gold run scores a new batch, as the platform does for every file that lands: `repeats` batches of
    the same size with other seeds, after one untimed batch that starts the Python workers. The pipeline and the
    bare forward score the same batches' texts. All three score each batch's distinct cleaned texts (gold scores
    each distinct text once), with the same model and all cores; the gold time covers the whole asset. Re-scoring
    a batch (the replace path, taken when `production` moves) is timed apart, once.
    """
    ref = home.production_model()
    first, *batches = [_silver_batch(home, tweets, seed + i) for i in range(repeats + 1)]

    def gold(batch: tuple[str, int, list[str]]) -> None:
        home.materialize(batch[0], [GOLD])

    gold_first = timed_each(gold, [first])  # loads the model into the Python workers; Spark reuses them after
    gold_times = timed_each(gold, batches)
    rescore = timed_each(gold, batches[-1:])

    model_dir = local_model_path(ref, home.layout.root) / "artifacts" / "model"
    torch.set_num_threads(os.cpu_count() or 1)
    classify = pipeline("text-classification", model=str(model_dir), tokenizer=str(model_dir), top_k=None,
                        device="cpu")
    classify(first[2][:BATCH_SIZE], batch_size=BATCH_SIZE, truncation=True)
    pipeline_times = timed_each(lambda b: classify(b[2], batch_size=BATCH_SIZE, truncation=True), batches)
    loaded = LoadedSource(classify.model, classify.tokenizer, str(model_dir), ref.uri)
    bare_times = timed_each(lambda b: bare_forward(loaded, b[2], BATCH_SIZE), batches)

    texts = round(statistics.median(len(b[2]) for b in batches))
    return {
        "silver_rows": round(statistics.median(b[1] for b in batches)), "distinct_texts": texts, "model": ref.uri,
        "repeats": repeats, "timed_batches": [b[0] for b in batches], "torch_threads": torch.get_num_threads(),
        "batch_size": BATCH_SIZE,
        "gold_first_run_s": gold_first["min_s"],
        "gold_rescore_s": rescore["min_s"],
        "gold": _throughput(gold_times, texts),
        "pipeline": _throughput(pipeline_times, texts),
        "bare_forward": _throughput(bare_times, texts),
        # Throughput ratios: how many times faster gold is (> 1 means faster).
        "inference_vs_pipeline": ratio(pipeline_times, gold_times),
        "inference_vs_bare_forward": ratio(bare_times, gold_times),
    }
