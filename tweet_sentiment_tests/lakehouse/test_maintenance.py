"""OPTIMIZE and VACUUM per table: data unchanged, small files compacted, unreferenced files removed, retention
refused shorter than a run in progress, and a table's writers' lock waited for (so a landing batch never
interleaves with a compaction)."""

import threading

import pytest
from pyspark.sql import functions as F

from tweet_sentiment.lakehouse.delta_log import commit_info, latest_version, partition_columns
from tweet_sentiment.lakehouse.maintenance import (
    RetentionTooShortError,
    check_retention,
    disk_usage,
    lakehouse_tables,
    maintain_lakehouse,
    maintain_table,
)
from tweet_sentiment.lakehouse.table_layout import ingest_date_of
from tweet_sentiment.locks import file_lock, lock_path
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import gold_frame, gold_row


def _append(spark, layout: HomeLayout, table: str, rows: list[tuple], by: str = "ingest_date") -> None:
    """Append rows as the IO manager lays them out (by ingest date), or as an older home did (`by="batch"`)."""
    frame = gold_frame(spark, rows)
    if by == "ingest_date":
        frame = frame.withColumn("ingest_date", F.lit("2026-12-01"))
    frame.write.format("delta").mode("append").partitionBy(by).save(str(layout.table(table)))


def _rows(spark, layout: HomeLayout, table: str) -> list[tuple]:
    return sorted(tuple(r) for r in spark.read.format("delta").load(str(layout.table(table))).collect())


def test_retention_shorter_than_the_longest_run_is_refused():
    check_retention(168, 2.5)
    with pytest.raises(RetentionTooShortError, match=r"2\.50 h"):
        check_retention(1, 2.5)
    with pytest.raises(RetentionTooShortError, match="negative"):
        check_retention(-1, 0)


def test_optimize_compacts_and_vacuum_removes_unreferenced_files(spark, home):
    layout = HomeLayout.resolve(home)
    for i in range(3):  # three small files in b1, one in b2
        _append(spark, layout, "gold_predictions", [gold_row("b1", f"m{i}", None, "POS", text=f"t{i}")])
    _append(spark, layout, "gold_predictions", [gold_row("b2", "bob", None, "NEG")])
    before = _rows(spark, layout, "gold_predictions")
    assert lakehouse_tables(layout) == ["gold_predictions"]

    (report,) = maintain_lakehouse(spark, layout, hours=0, longest_reader_hours=0)
    # Both batches landed the same day: one file for the day's partition.
    assert (report.table, report.before.files, report.after.files) == ("gold_predictions", 4, 1)
    assert report.before.disk_files == 4 and report.after.disk_files == 1 == disk_usage(layout.table(report.table))[0]
    assert not report.migrated
    assert _rows(spark, layout, "gold_predictions") == before
    with pytest.raises(RetentionTooShortError):
        maintain_lakehouse(spark, layout, hours=1, longest_reader_hours=3)


def test_maintenance_waits_for_the_tables_writer(spark, home):
    layout = HomeLayout.resolve(home)
    _append(spark, layout, "gold_predictions", [gold_row("b1", "al", None, "POS")])
    waiting, reports = threading.Event(), []
    with file_lock(lock_path(layout.locks, "table", "gold_predictions"), what="a batch writing gold"):
        worker = threading.Thread(target=lambda: reports.append(
            maintain_table(spark, layout, "gold_predictions", 168, on_wait=lambda _: waiting.set())))
        worker.start()
        assert waiting.wait(timeout=120)  # it asked for the lock and is waiting
        _append(spark, layout, "gold_predictions", [gold_row("b1", "bo", None, "NEG")])  # the writer's commit
        written = latest_version(layout.table("gold_predictions"))
        assert reports == []
    worker.join(timeout=600)
    (report,) = reports
    assert report.before.files == 2 and report.after.files == 1  # it saw the writer's commit, then compacted
    gold = layout.table("gold_predictions")
    newest = gold / "_delta_log" / f"{latest_version(gold):020d}.json"
    assert latest_version(layout.table("gold_predictions")) > written and "OPTIMIZE" in str(
        [commit_info(p)["operation"] for p in sorted(newest.parent.glob("*.json"))])


def test_a_table_partitioned_by_batch_is_migrated_to_the_date_layout_with_its_rows_unchanged(spark, home):
    layout = HomeLayout.resolve(home)
    for batch in ("b20261129T101010-aaaa", "b20261130T101010-bbbb", "b20261130T111111-cccc", "custom"):
        _append(spark, layout, "gold_predictions", [gold_row(batch, "al", None, "POS")] * 2, by="batch")
    before = _rows(spark, layout, "gold_predictions")

    today_before = ingest_date_of("custom")  # a key without a date gets the UTC day of the migration
    (report,) = maintain_lakehouse(spark, layout, hours=168, longest_reader_hours=0)
    table = layout.table("gold_predictions")
    assert report.migrated and partition_columns(table) == ["ingest_date"]
    after = spark.read.format("delta").load(str(table))
    assert sorted(tuple(r) for r in after.drop("ingest_date").collect()) == before
    dates = {r.batch: r.ingest_date for r in after.select("batch", "ingest_date").distinct().collect()}
    assert dates["b20261129T101010-aaaa"] == "2026-11-29" and dates["b20261130T111111-cccc"] == "2026-11-30"
    assert dates["custom"] in {today_before, ingest_date_of("custom")}
    assert report.before.files >= 4 and report.after.files == 3  # at least one per batch before, one per day after
    properties = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES delta.`{table}`").collect()}
    assert properties.get("delta.enableChangeDataFeed") == "true"  # the aggregates read gold's feed

    (again,) = maintain_lakehouse(spark, layout, hours=168, longest_reader_hours=0)
    assert not again.migrated
