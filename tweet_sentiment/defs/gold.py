"""Gold: every silver mention with the production model's prediction, scored on Spark, stamped with the model."""

import time
from collections.abc import Iterator
from typing import NamedTuple

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.defs.asset_keys import GOLD, PRODUCTION_MODEL, SILVER
from tweet_sentiment.defs.model import MlflowRegistry
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.production_model import production_ref
from tweet_sentiment.defs.quality import counts_table, non_null_check, rounded, schema_check
from tweet_sentiment.defs.resources import DeltaSparkResource
from tweet_sentiment.engine.sessions import local_checkpoint
from tweet_sentiment.lakehouse.delta_io_manager import TABLE_PROPERTIES_KEY
from tweet_sentiment.lakehouse.table_layout import CHANGE_FEED
from tweet_sentiment.model.contract import PREDICTED_SCORE, PREDICTED_SENTIMENT
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.registry import ui_model_version_url
from tweet_sentiment.model.spark_scoring import MODEL_LOADS, PANDAS_UDF, SCORERS, local_model_path, scorer, task_slots
from tweet_sentiment.transforms.gold import GOLD_SCHEMA, distinct_texts, predictions_of

KEY_COLUMNS = ["timestamp", "mention", "cleaned_text", "model_version"]

# Re-score a materialized partition when the production alias gets a new data version (a new model version);
# new partitions are left to the batch pipeline the source sensor launches.
RESCORE_ON_NEW_MODEL = (
    dg.AutomationCondition.any_deps_match(dg.AutomationCondition.data_version_changed())
    .allow(dg.AssetSelection.assets(PRODUCTION_MODEL)).since_last_handled()
    & ~dg.AutomationCondition.missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("re-score when production moves")

class GoldConfig(dg.Config):
    """How gold scores texts: our pandas UDF with a per-worker model cache, or MLflow's spark_udf."""

    scorer: str = PANDAS_UDF


class GoldProfile(NamedTuple):
    """What gold's one profiling query counts."""

    nulls: dict[str, int]
    """NULLs per key column."""
    predicted: dict[str, int]
    """Rows per predicted label."""
    invalid: int
    """Rows with a label outside NEG/NEU/POS or a score outside 0-100."""
    texts: int
    """Distinct texts scored."""
    loads: int | None
    """Python workers that loaded the model for this run (None for a scorer that does not count them)."""


def gold_profile(gold: DataFrame, scores: DataFrame) -> GoldProfile:
    """Profile the gold rows and the scored texts in one query (one round trip to the engine)."""
    valid = F.col(PREDICTED_SENTIMENT).isin(*LABELS) & F.col(PREDICTED_SCORE).between(0, 100)
    rows = gold.agg(
        *[F.sum(F.col(c).isNull().cast("long")).alias(f"null_{c}") for c in KEY_COLUMNS],
        *[F.sum((F.col(PREDICTED_SENTIMENT) == label).cast("long")).alias(label) for label in LABELS],
        F.sum(F.when(valid, 0).otherwise(1)).alias("invalid"))
    counts_loads = MODEL_LOADS in scores.columns
    texts = scores.agg(F.count(F.lit(1)).alias("texts"),
                       (F.sum(MODEL_LOADS) if counts_loads else F.lit(None).cast("long")).alias("loads"))
    row = rows.crossJoin(texts).first()
    return GoldProfile(nulls={c: int(row[f"null_{c}"] or 0) for c in KEY_COLUMNS},
                       predicted={label: int(row[label] or 0) for label in LABELS},
                       invalid=int(row["invalid"] or 0), texts=int(row["texts"]),
                       loads=int(row["loads"] or 0) if counts_loads else None)


def prediction_shares(predicted: dict[str, int]) -> dict[str, int | float]:
    """Rows and share of each predicted label, as numbers: the asset's Plots tab draws them per batch."""
    total = sum(predicted.values())
    return {**{f"predicted_{label.lower()}": n for label, n in predicted.items()},
            **{f"share_{label.lower()}": rounded(n / total if total else 0.0) for label, n in predicted.items()}}


def predictions_check(invalid: int) -> dg.AssetCheckResult:
    """Every row has a label in NEG/NEU/POS and a score within 0-100."""
    return dg.AssetCheckResult(asset_key=GOLD, check_name="valid_predictions", passed=invalid == 0,
                               metadata={"invalid_rows": invalid})


@dg.asset(
    key=GOLD,
    ins={"silver_mentions": dg.AssetIn(SILVER)},
    deps=[PRODUCTION_MODEL],
    partitions_def=batches,
    group_name="inference",
    io_manager_key="delta_io_manager",
    # The change feed tells the aggregates exactly which batches a re-run or re-score changed (docs/layout.md).
    metadata={"partition_expr": "batch", TABLE_PROPERTIES_KEY: CHANGE_FEED},
    kinds={"spark", "delta", "mlflow"},
    pool="lakehouse_gold",
    automation_condition=RESCORE_ON_NEW_MODEL,
    check_specs=[
        dg.AssetCheckSpec("schema", asset=GOLD, blocking=True, description="Expected columns and types."),
        dg.AssetCheckSpec("non_null_keys", asset=GOLD, blocking=True, description="Key columns are never NULL."),
        dg.AssetCheckSpec("valid_predictions", asset=GOLD, blocking=True,
                          description="Predicted label in NEG/NEU/POS, score within 0-100."),
    ],
)
def gold_predictions(context: dg.AssetExecutionContext, config: GoldConfig, pyspark: DeltaSparkResource,
                     mlflow_registry: MlflowRegistry,
                     silver_mentions: DataFrame) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Silver mentions with predicted_sentiment (NEG/NEU/POS), predicted_score (0-100), the seed's sentiment ids
    and the model name and version that scored them; each distinct text is scored once per batch."""
    if config.scorer not in SCORERS:
        raise ValueError(f"unknown scorer {config.scorer!r}; expected one of {SCORERS}")
    spark = pyspark.spark_session
    # The alias is read once: the whole batch is scored by, and stamped with, this one version.
    ref = production_ref(mlflow_registry)
    model_path = local_model_path(ref, mlflow_registry.home)
    score = scorer(config.scorer, spark, model_path)
    # Read once: scoring and the join below would each plan the Delta scan of silver again (0.3-0.6 s each).
    silver_mentions = local_checkpoint(silver_mentions)
    started = time.perf_counter()
    texts = distinct_texts(silver_mentions, partitions=task_slots(spark))
    # Checkpointed so the model runs exactly once per text, whatever reads the scores afterwards.
    scores = texts.select("cleaned_text", score(F.col("cleaned_text")).alias("p")).select("cleaned_text", "p.*")
    scores = local_checkpoint(scores)
    seconds = time.perf_counter() - started
    # Persisted: profiled, checked and written; the IO manager unpersists it after the write.
    gold = predictions_of(silver_mentions, scores, ref.name, ref.version).persist()
    profile = gold_profile(gold, scores)
    checks = [schema_check(GOLD, gold, GOLD_SCHEMA),
              non_null_check(GOLD, profile.nulls, KEY_COLUMNS), predictions_check(profile.invalid)]
    scored, loads, predicted = profile.texts, profile.loads, profile.predicted
    context.log.info(f"scored {scored} distinct texts with {ref.uri} ({config.scorer}) in {seconds:.1f}s; "
                     f"{loads if loads is not None else '?'} Python workers loaded the model for it")

    yield dg.Output(gold, metadata={
        "model_name": ref.name, "model_version": ref.version, "model_uri": ref.uri,
        **({"mlflow_model_version": dg.MetadataValue.url(link)}
           if (link := ui_model_version_url(ref.name, ref.version)) else {}),
        "scorer": config.scorer,
        "distinct_texts_scored": scored, "scoring_seconds": round(seconds, 2),
        **({"model_loads": loads} if loads is not None else {}),
        "texts_per_second": round(scored / seconds, 1) if seconds else 0.0,
        "predicted_sentiment": counts_table(predicted, "predicted_sentiment"),
        **prediction_shares(predicted),
    })
    yield from checks

