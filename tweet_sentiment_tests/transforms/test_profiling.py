"""Profiles in one query: condition counts and the most frequent values."""

from pyspark.sql import functions as F

from tweet_sentiment.transforms.profiling import counts_and_top_values, null_conditions


def test_counts_and_top_values_rank_by_count_then_value_and_skip_nulls(spark):
    rows = [("b", 1), ("a", None), ("b", 2), ("c", 3), ("a", 4), (None, 5), ("d", None), ("é", 6), ("é", 7)]
    frame = spark.createDataFrame(rows, "user string, n int")

    counts, top = counts_and_top_values(frame, {**null_conditions(frame), "big": F.col("n") > 4}, "user", limit=3)

    assert counts == {"user": 1, "n": 2, "big": 3}
    assert top == [("a", 2), ("b", 2), ("é", 2)]  # ties by value; "c" and "d" fall outside the limit


def test_counts_and_top_values_of_an_empty_frame(spark):
    frame = spark.createDataFrame([], "user string")

    assert counts_and_top_values(frame, null_conditions(frame), "user") == ({"user": 0}, [])
    assert counts_and_top_values(frame, {}, "user") == ({}, [])
