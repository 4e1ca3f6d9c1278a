"""Test helpers: register source files into batches the way the sensor does."""

from pathlib import Path

import dagster as dg

from tweet_sentiment.landing.discovery import DiscoveryLimits, discover, sha256_of
from tweet_sentiment.landing.manifest import Manifest, SourceFile
from tweet_sentiment.landing.reader import read_registered
from tweet_sentiment.settings import HomeLayout


def register_batches(home: Path, source_dir: Path, instance: dg.DagsterInstance, max_files: int = 100,
                     allow_overwrites: bool = False) -> list[str]:
    """Two looks at the source folder (so files settle), then add the new batches as partitions."""
    manifest = Manifest(HomeLayout.resolve(home).manifest)
    limits = DiscoveryLimits(max_files_per_batch=max_files)
    first = discover(manifest, source_dir, None, limits, allow_overwrites=allow_overwrites)
    found = discover(manifest, source_dir, first.cursor(), limits, allow_overwrites=allow_overwrites)
    keys = [b.key for look in (first, found) for b in look.registration.batches]
    instance.add_dynamic_partitions("batches", keys)
    return keys


def read_table(spark, home: Path, table: str):
    return spark.read.format("delta").load(str(HomeLayout.resolve(home).table(table)))


def registered(path: Path) -> SourceFile:
    """A file as the manifest would register it now: size, mtime and SHA-256."""
    stat = path.stat()
    return SourceFile(str(path), stat.st_size, stat.st_mtime_ns, sha256_of(str(path)))


def lines_frame(spark, *paths: Path):
    """The lines of files as bronze reads them (landing.reader), as a Spark DataFrame."""
    return spark.createDataFrame(read_registered([registered(p) for p in paths]))
