"""Gold: silver mentions with the model's prediction, each distinct text scored once, in the seed's id convention."""

from itertools import chain

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.model.labels import LABEL_TO_SENTIMENT_ID

GOLD_COLUMNS = ("timestamp", "mention", "cleaned_text", "sentiment", "predicted_score", "predicted_sentiment",
                "sentiment_id", "predicted_sentiment_id", "model_name", "model_version")
GOLD_SCHEMA = {"timestamp": "timestamp", "mention": "string", "cleaned_text": "string", "sentiment": "string",
               "predicted_score": "double", "predicted_sentiment": "string", "sentiment_id": "int",
               "predicted_sentiment_id": "int", "model_name": "string", "model_version": "string"}
SENTIMENT_TO_LABEL = {"negative": "NEG", "neutral": "NEU", "positive": "POS"}


def _lookup(mapping: dict, key: Column) -> Column:
    return F.create_map(*[F.lit(x) for x in chain.from_iterable(mapping.items())])[key]


def sentiment_label(sentiment: Column) -> Column:
    """NEG/NEU/POS for silver's negative/neutral/positive; NULL stays NULL."""
    return _lookup(SENTIMENT_TO_LABEL, sentiment)


def sentiment_id(label: Column) -> Column:
    """The seed's id for a NEG/NEU/POS label: negative 0, positive 1, neutral -1; NULL for NULL."""
    return _lookup(LABEL_TO_SENTIMENT_ID, label).cast("int")


def distinct_texts(silver: DataFrame, partitions: int | None = None) -> DataFrame:
    """The texts to score: one row per distinct `cleaned_text`, however many mentions share it; with `partitions`,
    spread over that many partitions by the same shuffle that removes the duplicates (one shuffle, not two)."""
    texts = silver.select("cleaned_text")
    if partitions is not None:
        texts = texts.repartition(partitions, "cleaned_text")
    return texts.distinct()


def predictions_of(silver: DataFrame, scores: DataFrame, model_name: str, model_version: str) -> DataFrame:
    """Silver rows joined to their text's score (`predicted_sentiment`, `predicted_score` 0-1) as gold rows.

    The score becomes a 0-100 percentage; every row is stamped with the model that made the prediction.
    """
    joined = silver.alias("s").join(scores.alias("p"), F.col("s.cleaned_text").eqNullSafe(F.col("p.cleaned_text")),
                                    "left")
    return joined.select(
        F.col("s.timestamp").alias("timestamp"),
        F.col("s.mention").alias("mention"),
        F.col("s.cleaned_text").alias("cleaned_text"),
        F.col("s.sentiment").alias("sentiment"),
        F.round(F.col("p.predicted_score") * 100, 2).cast("double").alias("predicted_score"),
        # The scoring UDF's result struct types it `string collate UTF8_BINARY`, which delta-rs cannot read: the
        # DDL name "string" makes it a plain string (lakehouse/interop.py).
        F.col("p.predicted_sentiment").cast("string").alias("predicted_sentiment"),
        sentiment_id(sentiment_label(F.col("s.sentiment"))).alias("sentiment_id"),
        sentiment_id(F.col("p.predicted_sentiment")).alias("predicted_sentiment_id"),
        F.lit(model_name).alias("model_name"),
        F.lit(model_version).alias("model_version"),
    )
