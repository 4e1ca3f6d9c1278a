"""Commit lookup in a local Delta log, which the IO manager uses instead of a Spark history query."""

from pathlib import Path

from tweet_sentiment.lakehouse.delta_log import (
    LOG_DIR,
    commits_adding_to,
    find_commit,
    holds_partition,
    latest_version,
    live_files,
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
    assert holds_partition(files, {"batch": "b2"}) and not holds_partition(files, {"batch": "b1"})
    assert holds_partition(live_files(table, 0), {"batch": "b1"})  # an older version's checksum
    (table / LOG_DIR / f"{version:020d}.crc").unlink()
    assert live_files(table, version) is None  # no checksum: unknown, not "empty"
    assert live_files(tmp_path / "missing", 0) is None
