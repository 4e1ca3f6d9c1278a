"""Scale: many batches into one growing lakehouse, all the way through gold and mention_sentiment; the cost per
batch, the freshness and the memory must stay flat as the history grows."""

import time
from collections.abc import Callable
from typing import Any

from tweet_sentiment.bench.inference import INGESTION_ASSETS
from tweet_sentiment.bench.memory_breakdown import PeakMemorySampler
from tweet_sentiment.bench.workspace import BenchHome
from tweet_sentiment.defs.asset_keys import GOLD, MENTIONS, PARTIALS
from tweet_sentiment.lakehouse.maintenance import health, lakehouse_tables, maintain_lakehouse

SENSOR_JOB = "batch_pipeline_with_mentions"
FRESHNESS_TWEETS = 200


def cost_growth(per_batch: list[float]) -> float | None:
    """Mean cost of the last three waves over waves 1-3 (wave 0 pays the JVM warm-up); about 1.0 means flat."""
    early, late = per_batch[1:4], per_batch[-3:]
    if len(per_batch) < 5:
        return None
    return (sum(late) / len(late)) / (sum(early) / len(early))


def file_counts(home: BenchHome) -> dict[str, int]:
    """Live Delta files per table (what a reader of the current version opens)."""
    return {t: health(home.spark, home.layout.table(t)).files for t in lakehouse_tables(home.layout)}


def _engine_pid(home: BenchHome) -> list[int]:
    """The Spark engine's process (where the JVM's memory is): the home's own engine, or the process listening on
    the port of $TWEET_SENTIMENT_SPARK_REMOTE when that names a server on this machine."""
    import os
    from urllib.parse import urlparse

    import psutil

    from tweet_sentiment.engine.client import REMOTE_ENV_VAR
    from tweet_sentiment.engine.state import read_state

    remote = os.environ.get(REMOTE_ENV_VAR)
    if not remote:
        state = read_state(home.layout)
        return [state.pid] if state is not None else []
    port = urlparse(remote.split(";")[0].replace("sc://", "http://")).port
    try:
        return [c.pid for c in psutil.net_connections(kind="tcp")
                if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid]
    except psutil.Error:  # not allowed to list other processes' sockets: the engine is left out
        return []


def freshness(home: BenchHome, seed: int) -> float:
    """Seconds from a small file landing to mention_sentiment reflecting it, on `tweet-sentiment run`'s path in this
    process (look, then the sensor's job for the batch: layers, partial and aggregate in one run)."""
    landed = time.perf_counter()
    home.land(FRESHNESS_TWEETS, 1, seed=seed, prefix=f"fresh-{seed}")
    for batch in home.ingest():
        home.defs.resolve_job_def(SENSOR_JOB).execute_in_process(
            instance=home.instance, partition_key=batch, run_config={"loggers": {"console": {"config": {
                "log_level": "WARNING"}}}})
    return time.perf_counter() - landed


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_scale(home: BenchHome, tweets: int, files: int, waves: int, scored_waves: frozenset[int] | None = None,
                on_wave: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Land `tweets` in `files` files over `waves` equal waves; each wave's batches go through bronze, silver, gold,
    their partials and the aggregate, each stage timed. Gold (and so the aggregate) runs on every wave unless
    `scored_waves` samples them (inference at CPU speed may dominate; the output says which waves were scored)."""
    per_wave, files_per_wave = tweets // waves, max(1, files // waves)
    model = home.production_model()
    rows: list[dict[str, Any]] = []
    with PeakMemorySampler(extra_pids=_engine_pid(home), interval_s=2.0) as memory:
        # The first small file starts the engine and loads the model: the start of history is measured after it,
        # warm, as the end is (the cold case is the freshness part's `cold_engine_freshness_seconds`).
        fresh_cold = freshness(home, seed=0)
        fresh_start = freshness(home, seed=1)
        for wave in range(waves):
            memory.reset()
            home.land(per_wave, files_per_wave, seed=1000 + wave, prefix=f"scale-{wave:04d}")
            started = time.perf_counter()
            batches = home.ingest()  # one or two: files older than the quiet time settle at the first look
            ingest_s = time.perf_counter() - started + sum(
                _timed(lambda b=b: home.materialize(b, INGESTION_ASSETS)) for b in batches)
            scored = scored_waves is None or wave in scored_waves
            gold_s = sum(_timed(lambda b=b: home.materialize(b, [GOLD])) for b in batches) if scored else None
            aggregate_s = (sum(_timed(lambda b=b: home.materialize(b, [PARTIALS, MENTIONS], job=SENSOR_JOB))
                               for b in batches) if scored else None)
            total = ingest_s + (gold_s or 0.0) + (aggregate_s or 0.0)
            row = {"wave": wave, "batches": len(batches), "tweets": per_wave, "bronze_silver_s": ingest_s,
                   "gold_s": gold_s, "aggregate_s": aggregate_s,
                   "seconds_per_batch": total / max(1, len(batches)),
                   "seconds_per_100k": total * 100_000 / per_wave, **memory.summary()}
            rows.append(row)
            if on_wave is not None:
                on_wave(row)
        fresh_end = freshness(home, seed=2)
        peak = memory.summary()
    before = file_counts(home)
    reports = maintain_lakehouse(home.spark, home.layout, hours=168.0, longest_reader_hours=0.0)
    per_batch = [r["seconds_per_batch"] for r in rows]
    return {
        "tweets": tweets, "files": files, "waves": waves, "tweets_per_wave": per_wave,
        "seconds_per_batch": per_batch,
        "seconds_per_100k": [r["seconds_per_100k"] for r in rows],
        "growth": cost_growth(per_batch),
        "freshness_cold_s": fresh_cold, "freshness_start_s": fresh_start, "freshness_end_s": fresh_end,
        "freshness": "in-process, `tweet-sentiment run`'s path (look + the sensor's batch job), not the daemon",
        **peak,
        "delta_files_before_maintain": before,
        "delta_files_after_maintain": {r.table: r.after.files for r in reports},
        "maintain_seconds": round(sum(r.seconds for r in reports), 1),
        "inference": (f"gold scored every wave with {model.uri}" if scored_waves is None else
                      f"sampled: gold and the aggregate ran on waves {sorted(scored_waves)} only, with {model.uri}"),
        "waves_detail": rows,
    }
