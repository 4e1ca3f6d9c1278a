"""Profiles of a DataFrame for people: null counts per column and the most frequent values."""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def count_where(frame: DataFrame, conditions: dict[str, Column]) -> dict[str, int]:
    """How many rows meet each condition, all in one pass (one Spark job)."""
    if not conditions:
        return {}
    names = {name: f"c{i}" for i, name in enumerate(conditions)}  # aliases safe whatever the names
    row = frame.agg(*[F.sum(cond.cast("long")).alias(names[n]) for n, cond in conditions.items()]).first()
    return {name: int(row[alias] or 0) for name, alias in names.items()}


def null_conditions(frame: DataFrame) -> dict[str, Column]:
    """`column -> column IS NULL` for every column, for `count_where`."""
    return {c: F.col(c).isNull() for c in frame.columns}


def null_counts(frame: DataFrame) -> dict[str, int]:
    """NULL count of every column, in one pass."""
    return count_where(frame, null_conditions(frame))


def top_values(frame: DataFrame, column: str, limit: int = 20) -> list[tuple[str, int]]:
    """The `limit` most frequent non-null values of `column` with their counts, ties broken by value."""
    rows = (frame.where(F.col(column).isNotNull()).groupBy(column).count()
            .orderBy(F.desc("count"), F.asc(column)).limit(limit).collect())
    return [(str(row[column]), int(row["count"])) for row in rows]
