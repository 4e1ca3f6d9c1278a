"""Table layout for long histories, measured: (a) partitioned by batch, (b) partitioned by ingest date, (c) not
partitioned; a batch replaced with `replaceWhere` on the batch column in every case. For each layout at a history of
N batches: write a new batch, replace one, read one batch, read all (a full aggregate), files before and after
OPTIMIZE, and the aggregate's per-batch read of gold (the batch's partial). The history is written in one job with
one file per batch, the file layout that per-batch appends leave.

Run: python -m tweet_sentiment.bench.layout --batches 200 --batches 2000 --rows-per-batch 1000 --out FILE.json
"""

import json
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.lakehouse.maintenance import health, optimize
from tweet_sentiment.lakehouse.tables import table_sql
from tweet_sentiment.transforms.mention_aggregates import mention_day_partials

LAYOUTS = {"a_batch": ["batch"], "b_ingest_date": ["ingest_date"], "c_none": []}
BATCHES_PER_DAY = 100


def batch_key(i: F.Column) -> F.Column:
    return F.format_string("b%06d", i)


def gold_like(spark: SparkSession, first: int, batches: int, rows_per_batch: int) -> DataFrame:
    """Rows shaped like gold (mention, text, labels, timestamp) for batches first..first+batches-1."""
    ids = spark.range(first * rows_per_batch, (first + batches) * rows_per_batch)
    batch = (F.col("id") / rows_per_batch).cast("long")
    return ids.select(
        batch_key(batch).alias("batch"),
        F.date_add(F.lit("2026-01-01").cast("date"), (batch / BATCHES_PER_DAY).cast("int")).alias("ingest_date"),
        (F.lit("2009-04-01 00:00:00").cast("timestamp") + F.make_interval(secs=F.col("id") % 5_000_000))
        .alias("timestamp"),
        F.format_string("user%d", (F.hash("id") % 5000).cast("int")).alias("mention"),
        F.format_string("text %d about things", F.col("id")).alias("cleaned_text"),
        F.element_at(F.array(F.lit("NEG"), F.lit("NEU"), F.lit("POS")), (F.abs(F.hash("id")) % 3 + 1).cast("int"))
        .alias("predicted_sentiment"),
        (F.abs(F.hash("id")) % 100).cast("double").alias("predicted_score"))


def _write(frame: DataFrame, path: Path, partition_by: list[str], mode: str, replace_where: str | None = None,
           max_records: int | None = None) -> None:
    writer = frame.write.format("delta").mode(mode)
    if max_records:
        writer = writer.option("maxRecordsPerFile", max_records)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if replace_where:
        writer = writer.option("replaceWhere", replace_where)
    writer.save(str(path))


def _median_s(action: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(spark: SparkSession, root: Path, layout: str, batches: int, rows_per_batch: int,
            repeats: int = 3) -> dict[str, Any]:
    """One layout at a history of `batches` batches, before and after OPTIMIZE."""
    path, partition_by = root / f"{layout}-{batches}", LAYOUTS[layout]
    shutil.rmtree(path, ignore_errors=True)
    # One task in batch order, a file rolled every batch: one file per batch whatever the partitioning.
    history = gold_like(spark, 0, batches, rows_per_batch).repartition(1).sortWithinPartitions("batch")
    started = time.perf_counter()
    _write(history, path, partition_by, "overwrite", max_records=rows_per_batch)
    result: dict[str, Any] = {"layout": layout, "batches": batches, "rows_per_batch": rows_per_batch,
                              "history_write_s": round(time.perf_counter() - started, 1)}

    def table() -> DataFrame:
        return spark.read.format("delta").load(str(path))

    target = batch_key(F.lit(batches // 2))
    target_value = f"b{batches // 2:06d}"
    next_batch = [batches]

    def new_batch() -> None:  # a batch not seen before: appended
        _write(gold_like(spark, next_batch[0], 1, rows_per_batch).coalesce(1), path, partition_by, "append")
        next_batch[0] += 1

    def replace_batch() -> None:  # a re-run of a batch in the middle of the history
        frame = gold_like(spark, batches // 2, 1, rows_per_batch).coalesce(1)
        _write(frame, path, partition_by, "overwrite", f"batch = '{target_value}'")

    for phase in ("before_optimize", "after_optimize"):
        if phase == "after_optimize":
            started = time.perf_counter()
            optimize(spark, path)
            result["optimize_s"] = round(time.perf_counter() - started, 1)
        result[phase] = {
            "files": health(spark, path).files,
            "write_new_batch_s": round(_median_s(new_batch, repeats), 3),
            "replace_batch_s": round(_median_s(replace_batch, repeats), 3),
            "read_one_batch_s": round(_median_s(lambda: table().where(F.col("batch") == target).count(), repeats), 3),
            # The aggregate's per-batch work on gold: the batch's partial (the MERGE after it does not read gold).
            "aggregate_update_s": round(_median_s(lambda: mention_day_partials(
                table().where(F.col("batch") == target), 0).collect(), repeats), 3),
            "read_all_aggregate_s": round(_median_s(lambda: table().groupBy("mention").agg(
                F.count(F.lit(1)), F.min("timestamp"), F.max("timestamp")).collect(), repeats), 3),
            "files_after_writes": health(spark, path).files,
        }
    result["rows"] = spark.sql(f"SELECT COUNT(*) AS n FROM {table_sql(path)}").first()["n"]
    shutil.rmtree(path, ignore_errors=True)
    return result


@click.command()
@click.option("--batches", "sizes", type=int, multiple=True, default=(200, 2000), show_default=True)
@click.option("--rows-per-batch", type=int, default=1000, show_default=True)
@click.option("--layout", "layouts", multiple=True, type=click.Choice(list(LAYOUTS)), default=tuple(LAYOUTS))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), required=True, help="Scratch folder.")
@click.option("--remote", required=True, help="Spark Connect URL of the engine to measure on.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def main(sizes: tuple[int, ...], rows_per_batch: int, layouts: tuple[str, ...], root: Path, remote: str,
         out: Path | None) -> None:
    """Measure the layouts; prints one JSON line per (layout, size) and writes them all to --out."""
    from tweet_sentiment.engine.sessions import connect

    spark = connect(remote)
    results = []
    for size in sizes:
        for layout in layouts:
            results.append(measure(spark, root.resolve(), layout, size, rows_per_batch))
            click.echo(json.dumps(results[-1]))
    if out is not None:
        out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
