"""Gold scoring through Spark + MLflow against what a user would write: a transformers pipeline, a bare forward."""

import os
from typing import Any

import dagster as dg
import torch
from pyspark.sql import functions as F
from transformers import pipeline

from tweet_sentiment.bench.timing import ratio, timed
from tweet_sentiment.bench.workspace import BenchHome
from tweet_sentiment.defs.gold import GOLD
from tweet_sentiment.lakehouse.inference import local_model_path
from tweet_sentiment.model.benchmark import bare_forward
from tweet_sentiment.model.sources import LoadedSource

INGESTION_ASSETS = [dg.AssetKey(k) for k in ("bronze_tweets", "bronze_quarantine", "silver_mentions",
                                              "silver_quarantine")]
BATCH_SIZE = 64


def _throughput(times: dict[str, float], items: int) -> dict[str, float]:
    return {**times, "items": items, "per_s_median": items / times["median_s"], "per_s_best": items / times["min_s"]}


def bench_inference(home: BenchHome, tweets: int, repeats: int, seed: int = 5) -> dict[str, Any]:
    """Score one silver partition of about `tweets` rows with the gold asset, the pipeline and a bare forward.

    All three score the partition's distinct cleaned texts (gold scores each distinct text once), with the same
    model and all cores; throughput is distinct texts per second, the gold time covers the whole asset.
    """
    ref = home.production_model()
    home.land(tweets, files=1, seed=seed, prefix=f"inference-{seed}")
    (batch,) = home.ingest()
    home.materialize(batch, INGESTION_ASSETS)
    silver = home.table("silver_mentions").where(F.col("batch") == batch)
    rows = silver.count()
    texts = [r.cleaned_text for r in silver.select("cleaned_text").distinct().collect()]

    def gold() -> None:
        home.materialize(batch, [GOLD])

    gold_first, _ = timed(gold, 1)  # loads the model into the Python workers; Spark reuses them after
    gold_times, _ = timed(gold, repeats)

    model_dir = local_model_path(ref, home.layout.root) / "artifacts" / "model"
    torch.set_num_threads(os.cpu_count() or 1)
    classify = pipeline("text-classification", model=str(model_dir), tokenizer=str(model_dir), top_k=None,
                        device="cpu")
    classify(texts[:BATCH_SIZE], batch_size=BATCH_SIZE, truncation=True)
    pipeline_times, _ = timed(lambda: classify(texts, batch_size=BATCH_SIZE, truncation=True), repeats)
    loaded = LoadedSource(classify.model, classify.tokenizer, str(model_dir), ref.uri)
    bare_times, _ = timed(lambda: bare_forward(loaded, texts, BATCH_SIZE), repeats)

    return {
        "silver_rows": rows, "distinct_texts": len(texts), "model": ref.uri, "repeats": repeats,
        "torch_threads": torch.get_num_threads(), "batch_size": BATCH_SIZE,
        "gold_first_run_s": gold_first["min_s"],
        "gold": _throughput(gold_times, len(texts)),
        "pipeline": _throughput(pipeline_times, len(texts)),
        "bare_forward": _throughput(bare_times, len(texts)),
        # Throughput ratios: how many times faster gold is (> 1 means faster).
        "inference_vs_pipeline": ratio(pipeline_times, gold_times),
        "inference_vs_bare_forward": ratio(bare_times, gold_times),
    }
