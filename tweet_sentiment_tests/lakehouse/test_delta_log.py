"""Commit lookup in a local Delta log, which the IO manager uses instead of a Spark history query."""

from pathlib import Path

from tweet_sentiment.lakehouse.delta_log import commits_adding_to, find_commit, latest_version


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
