"""Bronze + silver through the Dagster assets on Spark, against plain pandas and polars scripts on the same files."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
from pyspark.sql import SparkSession

from tweet_sentiment.bench.baselines import pandas_silver, polars_silver
from tweet_sentiment.bench.timing import ratio, timed
from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.lakehouse.delta_io_manager import DeltaSparkIOManager
from tweet_sentiment.landing.discovery import DiscoveryLimits, discover
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.landing.manifest import Manifest
from tweet_sentiment.settings import HomeLayout


def _register_one_batch(home: Path, source: Path, files: int) -> str:
    """Register the source files as one batch, as the sensor does (a second look settles fresh files)."""
    manifest = Manifest(HomeLayout.resolve(home).manifest)
    # Settle by the two looks only, so files of one set never split over two batches by their age.
    limits = DiscoveryLimits(max_files_per_batch=files, max_bytes_per_batch=1 << 40, quiet_seconds=float("inf"))
    first = discover(manifest, source, None, limits)
    batches = [*first.registration.batches, *discover(manifest, source, first.cursor(), limits).registration.batches]
    (batch,) = batches
    return batch.key


def _per_run(function: Callable[[int], Any]) -> Callable[[], Any]:
    """A no-argument function that calls `function` with 0, 1, 2, ... on successive calls."""
    calls = iter(range(1 << 30))
    return lambda: function(next(calls))


def two_delta_appends(spark: SparkSession, paths: list[str], lake: Path) -> None:
    """The least any Spark + Delta bronze and silver can do: Spark reads the files' lines itself and appends them,
    unparsed, to one Delta table and then to another. No parsing, checks, quarantine or lineage."""
    lines = spark.read.text(paths)
    for table in ("floor_bronze", "floor_silver"):
        lines.write.format("delta").mode("append").save(str(lake / table))


def bench_bronze_silver(workdir: Path, tweets: int, files: int, repeats: int,
                        spark: DeltaSparkResource) -> dict[str, Any]:
    """Time the platform's bronze + silver on new batches of `tweets` in `files` files against pandas and polars.

    Every run gets its own file set (same sizes, other seed), so the platform writes a new partition each time, as
    it does for every new batch; one re-run of an existing partition (the replace path) is reported apart.
    """
    home = workdir / "home"
    sets = [workdir / "source" / f"set-{i}" for i in range(repeats + 1)]
    paths = [[str(p) for p in write_source_files(folder, tweets=tweets, files=files, seed=11 + i)]
             for i, folder in enumerate(sets)]
    start = time.perf_counter()
    spark.spark_session  # noqa: B018  (start the session outside the timed runs; reported on its own)
    session_start_s = time.perf_counter() - start
    keys = [_register_one_batch(home, folder, files) for folder in sets]
    resources = {"tweet_home": TweetSentimentHome(home=str(home), source=str(workdir / "source")), "pyspark": spark,
                 "delta_io_manager": DeltaSparkIOManager.for_home(spark, str(home))}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("batches", keys)

        def platform(run: int) -> None:
            result = dg.materialize([bronze, silver], partition_key=keys[run], instance=instance, resources=resources)
            assert result.success

        runs = _per_run(platform)
        warmup, _ = timed(runs, 1)
        platform_times, _ = timed(runs, repeats)
        rerun, _ = timed(lambda: platform(repeats), 1)
    # The floor and the scripts run on the file sets the timed platform runs had (set 0 was the platform's warm-up).
    session = spark.spark_session
    two_delta_appends(session, paths[0], workdir / "floor")  # its own warm-up: the tables' first commit
    floor_times, _ = timed(_per_run(lambda i: two_delta_appends(session, paths[i + 1], workdir / "floor")), repeats)
    pandas_times, pandas_rows = timed(_per_run(lambda i: pandas_silver(paths[i + 1], workdir / "pandas.parquet")),
                                      repeats)
    polars_times, polars_rows = timed(_per_run(lambda i: polars_silver(paths[i + 1], workdir / "polars.parquet")),
                                      repeats)
    return {
        "tweets": tweets, "files": files, "repeats": repeats,
        "spark_session_start_s": session_start_s, "platform_first_run_s": warmup["min_s"],
        "platform": platform_times, "platform_rerun_s": rerun["min_s"], "pandas": pandas_times, "polars": polars_times,
        "two_delta_appends": floor_times, "two_delta_appends_vs_pandas": ratio(floor_times, pandas_times),
        "silver_rows_last_set": {"pandas": pandas_rows, "polars": polars_rows},
        "bronze_silver_vs_pandas": ratio(platform_times, pandas_times),
        "bronze_silver_vs_polars": ratio(platform_times, polars_times),
    }
