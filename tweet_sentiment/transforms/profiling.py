"""Profiles of a DataFrame for people: counts of rows meeting conditions (NULLs per column) and the most frequent
values, computed in one query, since each query is a round trip to the engine."""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def _count_columns(conditions: dict[str, Column]) -> dict[str, Column]:
    """name -> an aggregate counting the rows that meet its condition, under an alias safe whatever the name."""
    return {name: F.sum(cond.cast("long")).alias(f"c{i}") for i, (name, cond) in enumerate(conditions.items())}


def null_conditions(frame: DataFrame) -> dict[str, Column]:
    """`column -> column IS NULL` for every column, for `counts_and_top_values`."""
    return {c: F.col(c).isNull() for c in frame.columns}


def counts_and_top_values(frame: DataFrame, conditions: dict[str, Column], column: str,
                          limit: int = 20) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """How many rows meet each condition, and the `limit` most frequent non-null values of the string `column` with
    their counts (ties broken by value), in one query."""
    columns = _count_columns(conditions)
    counts = frame.agg(*columns.values(), F.count(F.lit(1)).alias("rows"))
    top = (frame.where(F.col(column).isNotNull()).groupBy(column).count()
           .orderBy(F.desc("count"), F.asc(column)).limit(limit)
           .agg(F.collect_list(F.struct(F.col(column).alias("value"), F.col("count"))).alias("top")))
    row = counts.crossJoin(top).first()
    # collect_list keeps no order: sort as the query did (a string's code points sort as Spark's UTF-8 bytes).
    ranked = sorted(((str(v["value"]), int(v["count"])) for v in row["top"]), key=lambda vc: (-vc[1], vc[0]))
    return {name: int(row[f"c{i}"] or 0) for i, name in enumerate(columns)}, ranked
