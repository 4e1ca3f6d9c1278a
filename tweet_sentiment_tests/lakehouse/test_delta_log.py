"""Commit lookup in a local Delta log, which the IO manager uses instead of a Spark history query."""

from pathlib import Path

from tweet_sentiment.lakehouse.delta_log import (
    LOG_DIR,
    commits_adding_to,
    find_commit,
    latest_version,
    live_files,
    may_hold_partition,
    partition_columns,
    partitions_changed,
    recorded_state,
    removes_data,
)


def test_finds_the_commit_by_its_token_and_the_latest_version(spark, tmp_path: Path):
    table = tmp_path / "t"
    for n, token in enumerate(["first", "second", "third"]):
        (spark.range(n + 1).write.format("delta").mode("overwrite").option("userMetadata", token).save(str(table)))

    assert latest_version(table) == 2
    second = find_commit(table, "second")
    assert second["version"] == 1 and second["operationMetrics"]["numOutputRows"] == "2"
    assert find_commit(table, "third")["operation"] == "WRITE"
    assert find_commit(table, "nobody") is None
    assert find_commit(table, "first", depth=2) is None  # only the newest `depth` commits are read


def test_a_table_without_a_log(tmp_path: Path):
    assert latest_version(tmp_path / "missing") is None
    assert find_commit(tmp_path / "missing", "x") is None


def test_commits_adding_to_a_partition(spark, tmp_path: Path):
    table = tmp_path / "t"
    for batch, layer in [("b1", "x"), ("b2", "x"), ("b1", "y")]:
        (spark.range(2).selectExpr(f"'{batch}' AS batch", f"'{layer}' AS layer", "id").write.format("delta")
         .mode("append").partitionBy("batch", "layer").save(str(table)))

    assert commits_adding_to(table, {"batch": "b1"}, None) == [0, 2]
    assert commits_adding_to(table, {"batch": "b1", "layer": "x"}, None) == [0]
    assert commits_adding_to(table, {"batch": "b1"}, 0) == [2]
    assert commits_adding_to(table, {"batch": "b3"}, None) == []


def test_live_files_from_the_version_checksum(spark, tmp_path: Path):
    table = tmp_path / "t"
    for batch in ("b1", "b2"):
        (spark.range(2).selectExpr(f"'{batch}' AS batch", "id").write.format("delta").mode("append")
         .partitionBy("batch").save(str(table)))
    spark.sql(f"DELETE FROM delta.`{table}` WHERE batch = 'b1'")
    version = latest_version(table)

    files = live_files(table, version)
    assert files is not None and files, "Delta Spark writes allFiles into the checksum of a small table"
    assert may_hold_partition(files, {"batch": "b2"}) and not may_hold_partition(files, {"batch": "b1"})
    assert may_hold_partition(live_files(table, 0), {"batch": "b1"})  # an older version's checksum
    (table / LOG_DIR / f"{version:020d}.crc").unlink()
    assert live_files(table, version) is None  # no checksum: unknown, not "empty"
    assert live_files(tmp_path / "missing", 0) is None


def _commit(table: Path, version: int, *actions: dict) -> None:
    import json

    (table / LOG_DIR).mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(a) for a in actions]
    (table / LOG_DIR / f"{version:020d}.json").write_text("\n".join(lines) + "\n")


def _file(kind: str, batch: str | None, data_change: bool = True) -> dict:
    action = {"path": f"f-{batch}.parquet", "dataChange": data_change}
    if batch is not None:
        action["partitionValues"] = {"batch": batch}
    return {kind: action}


def test_partitions_changed_skips_compaction_and_gives_up_without_the_log(tmp_path: Path):
    table = tmp_path / "gold"
    _commit(table, 0, {"commitInfo": {"userMetadata": "not json"}}, _file("add", "b1"))
    _commit(table, 1, _file("add", "b2"), _file("remove", "b1"))
    _commit(table, 2, _file("add", "b3", data_change=False), _file("remove", "b3", data_change=False))  # OPTIMIZE
    _commit(table, 3, {"commitInfo": {"userMetadata": '{"k": {"partials_version": 4}}'}}, _file("remove", "b2"))
    assert partitions_changed(table, "batch", None, 3) == {"b1": 1, "b2": 3}
    assert partitions_changed(table, "batch", 1, 3) == {"b2": 3}
    assert partitions_changed(table, "batch", 1, 2) == {}
    _commit(table, 4, _file("add", None))  # an action without partition values: cannot tell
    assert partitions_changed(table, "batch", 3, 4) is None
    (table / LOG_DIR / f"{1:020d}.json").unlink()  # cleaned-up log
    assert partitions_changed(table, "batch", 0, 3) is None
    assert recorded_state(table, "k") == {"partials_version": 4} and recorded_state(table, "other") is None


def test_a_batch_is_found_by_file_statistics_in_a_table_partitioned_by_date(spark, tmp_path: Path):
    table = tmp_path / "t"
    for batch in ("b1", "b2", "b3"):
        (spark.range(2).selectExpr(f"'{batch}' AS batch", "'2026-12-01' AS ingest_date", "id").coalesce(1)
         .write.format("delta").mode("append").partitionBy("ingest_date").save(str(table)))
    assert partition_columns(table) == ["ingest_date"]
    files = live_files(table, 2)
    assert may_hold_partition(files, {"batch": "b2"}) and not may_hold_partition(files, {"batch": "b4"})
    assert commits_adding_to(table, {"batch": "b2"}, None) == [1]
    assert partitions_changed(table, "batch", 0, 2) == {"b2": 1, "b3": 2}

    spark.sql(f"OPTIMIZE delta.`{table}`").collect()  # one file of b1..b3: no data change, so nothing changed
    assert partitions_changed(table, "batch", 2, 3) == {}
    assert may_hold_partition(live_files(table, 3), {"batch": "b2"})  # within the file's min..max: maybe
    assert commits_adding_to(table, {"batch": "b2"}, 2) == []  # compaction adds no data
    (spark.range(1).selectExpr("'b2' AS batch", "'2026-12-01' AS ingest_date", "id").write.format("delta")
     .mode("overwrite").option("replaceWhere", "batch = 'b2'").save(str(table)))
    # The re-run removed the compacted file and wrote b1 and b3 back: the log cannot tell which batch changed.
    assert partitions_changed(table, "batch", 3, 4) is None


def test_partition_columns_of_a_table_partitioned_by_batch_and_of_none(spark, tmp_path: Path):
    by_batch = spark.range(1).selectExpr("'b1' AS batch", "id")
    by_batch.write.format("delta").partitionBy("batch").save(str(tmp_path / "a"))
    spark.range(1).write.format("delta").save(str(tmp_path / "b"))
    assert partition_columns(tmp_path / "a") == ["batch"]
    assert partition_columns(tmp_path / "b") == []
    assert partition_columns(tmp_path / "missing") is None


def test_removes_data_ignores_compaction_and_gives_up_without_the_log(tmp_path: Path):
    table = tmp_path / "partials"
    _commit(table, 0, _file("add", "b1"))
    _commit(table, 1, _file("add", "b2"))
    _commit(table, 2, _file("add", "b3", data_change=False), _file("remove", "b1", data_change=False))  # OPTIMIZE
    _commit(table, 3, _file("add", "b2"), _file("remove", "b2"))  # a re-run replaces b2
    assert removes_data(table, 0, 2) is False
    assert removes_data(table, 1, 3) is True
    (table / LOG_DIR / f"{1:020d}.json").unlink()
    assert removes_data(table, 0, 2) is None
