"""Test helpers: register source files into batches the way the sensor does."""

from pathlib import Path

import dagster as dg

from tweet_sentiment.discovery import DiscoveryLimits, discover
from tweet_sentiment.manifest import Manifest
from tweet_sentiment.settings import HomeLayout


def register_batches(home: Path, source_dir: Path, instance: dg.DagsterInstance, max_files: int = 100) -> list[str]:
    """Two looks at the source folder (so files settle), then add the new batches as partitions."""
    manifest = Manifest(HomeLayout.resolve(home).manifest)
    limits = DiscoveryLimits(max_files_per_batch=max_files)
    found = discover(manifest, source_dir, discover(manifest, source_dir, None, limits).cursor(), limits)
    keys = [b.key for b in found.registration.batches]
    instance.add_dynamic_partitions("batches", keys)
    return keys


def read_table(spark, home: Path, table: str):
    return spark.read.format("delta").load(str(HomeLayout.resolve(home).table(table)))
