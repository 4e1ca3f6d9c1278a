"""Scale: many batches into one growing lakehouse; the cost per batch and the peak memory must stay flat."""

import time
from collections.abc import Callable
from typing import Any

from tweet_sentiment.bench.inference import INGESTION_ASSETS
from tweet_sentiment.bench.memory import PeakRssSampler
from tweet_sentiment.bench.workspace import BenchHome
from tweet_sentiment.defs.gold import GOLD


def cost_growth(per_100k: list[float]) -> float | None:
    """Mean cost of the last three waves over waves 1-3 (wave 0 pays the JVM warm-up); about 1.0 means flat."""
    early, late = per_100k[1:4], per_100k[-3:]
    if len(per_100k) < 5:
        return None
    return (sum(late) / len(late)) / (sum(early) / len(early))


def bench_scale(home: BenchHome, tweets: int, files: int, waves: int, scored_waves: frozenset[int] = frozenset(),
                on_wave: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Land `tweets` in `files` files over `waves` equal waves, each ingested and run as one batch; time each.

    Gold runs only for `scored_waves`: inference is sampled because at CPU speed it would dominate (gold reads only
    its own silver partition, so its cost per batch does not depend on the history; the inference part measures it).
    """
    per_wave, files_per_wave = tweets // waves, max(1, files // waves)
    home.production_model()
    rows: list[dict[str, Any]] = []
    with PeakRssSampler() as memory:
        for wave in range(waves):
            memory.reset()
            home.land(per_wave, files_per_wave, seed=1000 + wave, prefix=f"scale-{wave:04d}")
            started = time.perf_counter()
            batches = home.ingest()  # one or two: files older than the quiet time settle at the first look
            for batch in batches:
                home.materialize(batch, INGESTION_ASSETS)
            ingest_s = time.perf_counter() - started
            gold_s = None
            if wave in scored_waves:
                started = time.perf_counter()
                for batch in batches:
                    home.materialize(batch, [GOLD])
                gold_s = time.perf_counter() - started
            row = {"wave": wave, "batches": len(batches), "tweets": per_wave, "bronze_silver_s": ingest_s,
                   "seconds_per_100k": ingest_s * 100_000 / per_wave, "gold_s": gold_s,
                   "peak_rss_mb": memory.peak_mb}
            rows.append(row)
            if on_wave is not None:
                on_wave(row)
    per_100k = [r["seconds_per_100k"] for r in rows]
    return {
        "tweets": tweets, "files": files, "waves": waves, "tweets_per_wave": per_wave,
        "seconds_per_100k": per_100k,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
        "growth": cost_growth(per_100k),
        "inference": (f"sampled: gold scored on waves {sorted(scored_waves)} only" if scored_waves else
                      "not run here: at CPU speed it would dominate; see the inference part for its throughput"),
        "waves_detail": rows,
    }
