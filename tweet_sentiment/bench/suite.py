"""The benchmark profiles: what runs, at which sizes, and the result document that runs are compared by."""

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tweet_sentiment.bench.machine import describe_machine

Step = Callable[[str], None]


@dataclass(frozen=True)
class Profile:
    """Sizes of one profile; `scale_tweets` 0 leaves the scale run out."""

    name: str
    repeats: int
    inference_tweets: int
    ingestion_tweets: int
    ingestion_files: int
    freshness_tweets: int
    scale_tweets: int = 0
    scale_files: int = 0
    scale_waves: int = 0


# Quick: parts 1-3 at small sizes, well under 10 minutes on 2 cores. Full: the sizes the issue asks for.
QUICK = Profile("quick", repeats=2, inference_tweets=2_000, ingestion_tweets=20_000, ingestion_files=20,
                freshness_tweets=1_000)
FULL = Profile("full", repeats=2, inference_tweets=19_000, ingestion_tweets=100_000, ingestion_files=20,
               freshness_tweets=1_000, scale_tweets=1_000_000, scale_files=200,
               scale_waves=10)


def _section(results: dict[str, Any], name: str, step: Step, run: Callable[[], dict[str, Any]]) -> None:
    """Run one part, keep its result (or its error: the other parts still run) and its wall time."""
    step(f"{name}: running")
    started = time.perf_counter()
    try:
        results[name] = run()
    except Exception as error:
        results[name] = {"error": f"{type(error).__name__}: {error}"}
    results[name]["wall_s"] = time.perf_counter() - started
    step(f"{name}: done in {results[name]['wall_s']:.0f}s")


PARTS = ("freshness", "inference", "bronze_silver", "scale")
SCALE_HEADLINE = ("peak_rss_mb", "seconds_per_100k", "seconds_per_batch", "growth", "freshness_start_s",
                  "freshness_end_s", "delta_files_before_maintain", "delta_files_after_maintain", "inference")


def run_profile(profile: Profile, workdir: Path, step: Step, only: tuple[str, ...] = PARTS) -> dict[str, Any]:
    """The parts of `profile` named in `only`, in this process, fresh state under `workdir`."""
    from tweet_sentiment.bench.freshness import bench_freshness
    from tweet_sentiment.bench.inference import bench_inference
    from tweet_sentiment.bench.ingestion import bench_bronze_silver
    from tweet_sentiment.bench.scale import bench_scale
    from tweet_sentiment.bench.workspace import BenchHome

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    machine = describe_machine()
    started = time.perf_counter()
    parts: dict[str, Any] = {}
    # Freshness first: it runs the daemon in other processes, before this one holds a Spark JVM and a model.
    if "freshness" in only:
        _section(parts, "freshness", step, lambda: bench_freshness(
            workdir / "freshness", tweets=profile.freshness_tweets))
    if "inference" in only or "bronze_silver" in only:
        home = BenchHome.create(workdir / "main")
    if "inference" in only:
        _section(parts, "inference", step, lambda: bench_inference(home, profile.inference_tweets, profile.repeats))
    if "bronze_silver" in only:
        _section(parts, "bronze_silver", step, lambda: bench_bronze_silver(
            workdir / "ingestion", profile.ingestion_tweets, profile.ingestion_files, profile.repeats,
            home.defs.resources["pyspark"]))
    if profile.scale_tweets and "scale" in only:
        scale_home = BenchHome.create(workdir / "scale")
        _section(parts, "scale", step, lambda: bench_scale(
            scale_home, profile.scale_tweets, profile.scale_files, profile.scale_waves,
            on_wave=lambda row: step(f"scale: wave {row['wave']} {row['seconds_per_100k']:.1f}s per 100k, "
                                     f"peak {row['peak_rss_mb']:.0f} MB")))
    _stop_engines(workdir)
    machine["load_average_end"] = describe_machine()["load_average"]
    return {
        "profile": asdict(profile),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        **headline(parts),
        "total_s": time.perf_counter() - started,
        "raw": parts,
    }


def _stop_engines(workdir: Path) -> None:
    """Stop the engines the parts' homes started (the freshness part stops its own)."""
    from tweet_sentiment.engine.server import stop_engine
    from tweet_sentiment.settings import HomeLayout

    for state in workdir.glob("*/home/engine/engine.json"):
        stop_engine(HomeLayout.resolve(state.parents[1]))


def headline(parts: dict[str, Any]) -> dict[str, Any]:
    """The keys runs are compared by; None where a part failed or did not run."""
    def get(part: str, key: str) -> Any:
        return parts.get(part, {}).get(key)

    scale = parts.get("scale")
    return {
        "inference_vs_pipeline": get("inference", "inference_vs_pipeline"),
        "inference_vs_bare_forward": get("inference", "inference_vs_bare_forward"),
        "bronze_silver_vs_pandas": get("bronze_silver", "bronze_silver_vs_pandas"),
        "bronze_silver_vs_polars": get("bronze_silver", "bronze_silver_vs_polars"),
        "two_delta_appends_vs_pandas": get("bronze_silver", "two_delta_appends_vs_pandas"),
        "freshness_seconds": get("freshness", "freshness_seconds"),
        "warm_median_freshness_seconds": get("freshness", "warm_median_freshness_seconds"),
        "cold_engine_freshness_seconds": get("freshness", "cold_engine_freshness_seconds"),
        "workers_idle_freshness_seconds": get("freshness", "workers_idle_freshness_seconds"),
        "scale": ({key: scale.get(key) for key in SCALE_HEADLINE} if scale else None),
    }


def markdown_rows(result: dict[str, Any]) -> list[str]:
    """A markdown table of the headline numbers, with the goal of each."""
    def fmt(value: Any, unit: str = "x") -> str:
        return "failed / not run" if value is None else f"{value:.2f}{unit}"

    scale = result.get("scale") or {}
    per_100k = scale.get("seconds_per_100k") or []
    rows = [
        "| measure | result | goal |", "| --- | ---: | --- |",
        f"| gold throughput / transformers pipeline | {fmt(result['inference_vs_pipeline'])} | >= 1.5x |",
        f"| gold throughput / bare torch forward | {fmt(result['inference_vs_bare_forward'])} | >= 0.9x |",
        f"| bronze+silver time / pandas | {fmt(result['bronze_silver_vs_pandas'])} | <= 1.0x |",
        f"| bronze+silver time / polars | {fmt(result['bronze_silver_vs_polars'])} | (reported) |",
        f"| floor: two Delta appends of the unparsed lines / pandas | "
        f"{fmt(result.get('two_delta_appends_vs_pandas'))} | (reported) |",
        f"| freshness, file landed -> mention_sentiment, warm engine | {fmt(result['freshness_seconds'], ' s')} "
        "| <= 15 s |",
        f"| freshness, warm engine, median of three files | {fmt(result.get('warm_median_freshness_seconds'), ' s')} "
        "| <= 15 s |",
        f"| freshness, first file, engine not running | {fmt(result['cold_engine_freshness_seconds'], ' s')} "
        "| (reported) |",
    ]
    if result.get("workers_idle_freshness_seconds") is not None:
        rows.append(f"| freshness after 70 s quiet (Spark ends Python workers idle for 60 s) | "
                    f"{fmt(result['workers_idle_freshness_seconds'], ' s')} | (reported) |")
    if per_100k:
        rows += [f"| scale: seconds per 100k tweets, first -> last wave | {per_100k[0]:.1f} -> {per_100k[-1]:.1f} | "
                 "flat |",
                 f"| scale: peak RSS, all processes | {scale['peak_rss_mb']:.0f} MB | (reported) |"]
        per_batch = scale.get("seconds_per_batch") or []
        if per_batch:
            rows.append(f"| scale: seconds per batch, first -> last wave (gold and aggregate included) | "
                        f"{per_batch[0]:.1f} -> {per_batch[-1]:.1f} (growth {fmt(scale.get('growth'))}) | <= 1.2x |")
        if scale.get("freshness_end_s") is not None:
            rows.append(f"| scale: freshness, empty -> full history | {fmt(scale.get('freshness_start_s'), ' s')} -> "
                        f"{fmt(scale.get('freshness_end_s'), ' s')} | within 20% |")
    return rows


def default_output(profile: Profile, root: Path = Path("bench/results")) -> Path:
    """bench/results/<date>.json for the full profile, <date>-quick.json for the quick one."""
    suffix = "" if profile.name == "full" else f"-{profile.name}"
    return root / f"{dt.date.today().isoformat()}{suffix}.json"
