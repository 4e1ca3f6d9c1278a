"""Bronze + silver through the Dagster assets on Spark, against plain pandas and polars scripts on the same files."""

import time
from pathlib import Path
from typing import Any

import dagster as dg

from tweet_sentiment.bench.baselines import pandas_silver, polars_silver
from tweet_sentiment.bench.timing import ratio, timed
from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.discovery import DiscoveryLimits, discover
from tweet_sentiment.generate import write_source_files
from tweet_sentiment.lakehouse.delta_io_manager import DeltaSparkIOManager
from tweet_sentiment.manifest import Manifest
from tweet_sentiment.settings import HomeLayout


def _register_one_batch(home: Path, source: Path, files: int) -> str:
    manifest = Manifest(HomeLayout.resolve(home).manifest)
    limits = DiscoveryLimits(max_files_per_batch=files, max_bytes_per_batch=1 << 40)
    found = discover(manifest, source, discover(manifest, source, None, limits).cursor(), limits)
    (batch,) = found.registration.batches
    return batch.key


def bench_bronze_silver(workdir: Path, tweets: int, files: int, repeats: int,
                        spark: DeltaSparkResource) -> dict[str, Any]:
    """Time the platform's bronze + silver for one batch of `tweets` in `files` files against pandas and polars."""
    source, home = workdir / "source", workdir / "home"
    paths = [str(p) for p in write_source_files(source, tweets=tweets, files=files, seed=11)]
    start = time.perf_counter()
    spark.spark_session  # noqa: B018  (start the session outside the timed runs; reported on its own)
    session_start_s = time.perf_counter() - start
    key = _register_one_batch(home, source, files)
    resources = {"tweet_home": TweetSentimentHome(home=str(home), source=str(source)), "pyspark": spark,
                 "delta_io_manager": DeltaSparkIOManager(pyspark=spark, home=str(home))}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("batches", [key])

        def platform() -> None:
            result = dg.materialize([bronze, silver], partition_key=key, instance=instance, resources=resources)
            assert result.success

        warmup, _ = timed(platform, 1)
        platform_times, _ = timed(platform, repeats)
    pandas_times, pandas_rows = timed(lambda: pandas_silver(paths, workdir / "pandas.parquet"), repeats)
    polars_times, polars_rows = timed(lambda: polars_silver(paths, workdir / "polars.parquet"), repeats)
    return {
        "tweets": tweets, "files": files, "repeats": repeats,
        "spark_session_start_s": session_start_s, "platform_first_run_s": warmup["min_s"],
        "platform": platform_times, "pandas": pandas_times, "polars": polars_times,
        "silver_rows": {"pandas": pandas_rows, "polars": polars_rows},
        "bronze_silver_vs_pandas": ratio(platform_times, pandas_times),
        "bronze_silver_vs_polars": ratio(platform_times, polars_times),
    }
