"""The partition writer's guards: predicates that cannot reach beyond their partitions, and a racing creation."""

import pytest

from tweet_sentiment.lakehouse.partition_writer import UnsafeWriteError, partition_predicate, refuse_concurrent_creation


def test_predicate_refuses_empty_or_unsafe_values():
    assert partition_predicate({"batch": "b1", "layer": "bronze"}) == "`batch` = 'b1' AND `layer` = 'bronze'"
    assert partition_predicate({"batch": ["b2", "b1"]}) == "`batch` IN ('b1', 'b2')"
    for values in ({}, {"batch": "x' OR '1'='1"}, {"batch": ""}, {"Bad Col": "x"}, {"batch": "a/b"}, {"batch": []},
                   {"batch": ["b1", "x' OR '1'='1"]}):
        with pytest.raises(UnsafeWriteError):
            partition_predicate(values)


def test_a_racing_creation_of_the_same_partition_is_refused(spark, tmp_path):
    table = tmp_path / "t"
    for batch in ("b0", "b1", "b1"):  # version 0 exists at the check; 1 is the other writer's, 2 is ours
        spark.range(1).selectExpr(f"'{batch}' AS batch", "id").write.format("delta").mode("append").partitionBy(
            "batch").save(str(table))

    with pytest.raises(RuntimeError, match="concurrently"):
        refuse_concurrent_creation(table, {"batch": "b1"}, checked_at=0, ours=2)
    refuse_concurrent_creation(table, {"batch": "b1"}, checked_at=1, ours=2)  # nobody else since our check
    refuse_concurrent_creation(table, {"batch": "b0"}, checked_at=0, ours=2)
