"""Helpers for the gold, aggregate and evaluation tests: tiny registered models and hand-made gold tables."""

from datetime import datetime
from pathlib import Path

import dagster as dg
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.defs.model import MlflowRegistry
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.lakehouse.table_layout import INGEST_DATE
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.model_store import register_tiny_model

GOLD_DDL = ("timestamp timestamp, mention string, cleaned_text string, sentiment string, predicted_score double, "
            "predicted_sentiment string, sentiment_id int, predicted_sentiment_id int, model_name string, "
            "model_version string, batch string")
# The two jobs `tweet-sentiment run` uses: every partitioned layer per batch, then the aggregates over all batches.
BATCH_JOB = dg.define_asset_job("batch_pipeline", partitions_def=batches, executor_def=dg.in_process_executor,
                                selection=dg.AssetSelection.groups("ingestion", "inference"))
AGGREGATES_JOB = dg.define_asset_job("gold_aggregates", executor_def=dg.in_process_executor,
                                     selection=dg.AssetSelection.groups("analytics", "evaluation"))
_IDS = {"negative": 0, "positive": 1, "neutral": -1, "NEG": 0, "POS": 1, "NEU": -1}


def register_tiny(home: Path, seed: int = 0, bias: list[float] | None = None) -> str:
    """A tiny classifier as HF_TWEET_SENTIMENT@production in <home>/mlflow (registered once per session, copied
    after that: model_store); its version."""
    return register_tiny_model(home, seed=seed, bias=bias)


def with_registry(resources: dict, home: Path) -> dict:
    return {**resources, "mlflow_registry": MlflowRegistry(home=str(home))}


def gold_row(batch: str, mention: str, given: str | None, predicted: str, day: int = 1, text: str = "t",
             version: str = "1") -> tuple:
    return (datetime(2009, 4, day, 12), mention, text, given, 90.0, predicted,
            _IDS.get(given) if given else None, _IDS[predicted], "HF_TWEET_SENTIMENT", version, batch)


def gold_frame(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    return spark.createDataFrame(rows, GOLD_DDL)


def write_gold(spark: SparkSession, home: Path, rows: list[tuple], batch: str | None = None,
               by: str = INGEST_DATE) -> None:
    """Write gold rows the way the IO manager does (by ingest date, change feed on): a whole table, or one batch's
    rows replaced. `by="batch"` writes an older home's layout, partitioned by batch, without the feed."""
    path = str(HomeLayout.resolve(home).table("gold_predictions"))
    frame = gold_frame(spark, rows)
    if by == INGEST_DATE:
        frame = frame.withColumn(INGEST_DATE, F.lit("2026-12-01"))
    writer = frame.write.format("delta").partitionBy(by)
    if by == INGEST_DATE:
        writer = writer.option("delta.enableChangeDataFeed", "true")
    if batch is None:
        writer.mode("overwrite").save(path)
    else:
        writer.mode("overwrite").option("replaceWhere", f"batch = '{batch}'").save(path)


def materialization_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def loaded_input_metadata(result: dg.ExecuteInProcessResult, step: str) -> dict:
    """The metadata the IO manager gave the input it loaded for `step` (one input)."""
    (event,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.LOADED_INPUT and e.step_key == step]
    return {k: v.value for k, v in event.event_specific_data.metadata.items()}


def known_answer_rows(batch: str) -> list[tuple]:
    """10 labelled rows (7 agree) and one without a given sentiment; the metrics are worked out in the tests.

    given NEG -> predicted NEG 2, NEU 1, POS 1; given NEU -> NEU 2; given POS -> POS 3, NEG 1; given NULL -> POS 1.
    """
    cells = [("negative", "NEG", 2), ("negative", "NEU", 1), ("negative", "POS", 1), ("neutral", "NEU", 2),
             ("positive", "POS", 3), ("positive", "NEG", 1), (None, "POS", 1)]
    return [gold_row(batch, f"m{i}", given, predicted, text=f"text {i}")
            for i, (given, predicted, n) in enumerate(cells) for _ in range(n)]
