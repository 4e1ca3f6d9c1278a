"""Profiles of a DataFrame for people: null counts per column and the most frequent values."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def null_counts(frame: DataFrame) -> dict[str, int]:
    """NULL count of every column, in one pass."""
    if not frame.columns:
        return {}
    row = frame.agg(*[F.sum(F.col(c).isNull().cast("int")).alias(c) for c in frame.columns]).first()
    return {c: int(row[c] or 0) for c in frame.columns}


def top_values(frame: DataFrame, column: str, limit: int = 20) -> list[tuple[str, int]]:
    """The `limit` most frequent non-null values of `column` with their counts, ties broken by value."""
    rows = (frame.where(F.col(column).isNotNull()).groupBy(column).count()
            .orderBy(F.desc("count"), F.asc(column)).limit(limit).collect())
    return [(str(row[column]), int(row["count"])) for row in rows]


def value_counts(frame: DataFrame, column: str) -> dict[str | None, int]:
    """Count of each value of `column`, NULL under the key None."""
    return {row[column]: int(row["count"]) for row in frame.groupBy(column).count().collect()}
