"""OPTIMIZE and VACUUM per table: data unchanged, small files compacted, unreferenced files removed, retention
refused shorter than a run in progress, and a table's writers' lock waited for (so a landing batch never
interleaves with a compaction)."""

import threading

import pytest

from tweet_sentiment.lakehouse.delta_log import commit_info, latest_version
from tweet_sentiment.lakehouse.maintenance import (
    RetentionTooShortError,
    check_retention,
    disk_usage,
    lakehouse_tables,
    maintain_lakehouse,
    maintain_table,
)
from tweet_sentiment.locks import file_lock, lock_path
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import gold_frame, gold_row


def _append(spark, layout: HomeLayout, table: str, rows: list[tuple]) -> None:
    gold_frame(spark, rows).write.format("delta").mode("append").partitionBy("batch").save(str(layout.table(table)))


def _rows(spark, layout: HomeLayout, table: str) -> list[tuple]:
    return sorted(tuple(r) for r in spark.read.format("delta").load(str(layout.table(table))).collect())


def test_retention_shorter_than_the_longest_run_is_refused():
    check_retention(168, 2.5)
    with pytest.raises(RetentionTooShortError, match="2.50 h"):
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
    assert (report.table, report.before.files, report.after.files) == ("gold_predictions", 4, 2)
    assert report.before.disk_files == 4 and report.after.disk_files == 2 == disk_usage(layout.table(report.table))[0]
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
    newest = layout.table("gold_predictions") / "_delta_log" / f"{latest_version(layout.table('gold_predictions')):020d}.json"
    assert latest_version(layout.table("gold_predictions")) > written and "OPTIMIZE" in str(
        [commit_info(p)["operation"] for p in sorted(newest.parent.glob("*.json"))])
