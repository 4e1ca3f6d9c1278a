"""The application aggregate: per mention, first and last tweet and predicted sentiment counts over all batches."""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

MENTION_SENTIMENT_COLUMNS = ("mention", "min_timestamp", "max_timestamp", "negative", "neutral", "positive", "total")
_COUNTS = {"negative": "NEG", "neutral": "NEU", "positive": "POS"}


def _count_of(label: str) -> Column:
    return F.sum((F.col("predicted_sentiment") == label).cast("long"))


def mention_sentiment(gold: DataFrame) -> DataFrame:
    """One row per mention, most mentioned first (ties by mention). Gold holds each batch once, so no double counts."""
    counts = [F.coalesce(_count_of(label), F.lit(0)).alias(name) for name, label in _COUNTS.items()]
    return (gold.groupBy("mention")
            .agg(F.min("timestamp").alias("min_timestamp"), F.max("timestamp").alias("max_timestamp"), *counts,
                 F.count(F.lit(1)).alias("total"))
            .orderBy(F.desc("total"), F.asc("mention")))


def daily_trend(gold: DataFrame, mentions: list[str]) -> DataFrame:
    """Per (mention, UTC day): predicted negative/neutral/positive counts and net sentiment (pos - neg) / total."""
    counts = [F.coalesce(_count_of(label), F.lit(0)).alias(name) for name, label in _COUNTS.items()]
    daily = (gold.where(F.col("mention").isin(mentions))
             .groupBy("mention", F.to_date("timestamp").alias("day"))
             .agg(*counts, F.count(F.lit(1)).alias("total")))
    return (daily.withColumn("net_sentiment", (F.col("positive") - F.col("negative")) / F.col("total"))
            .orderBy("mention", "day"))
