"""The gold steps of `tweet-sentiment run` around the batch runs: a model in production before scoring, stale gold
re-scored after a new production version, then the aggregates over all batches refreshed once."""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.commands.batches import first_error
from tweet_sentiment.commands.cli_runs import execute_from_cli
from tweet_sentiment.defs.asset_keys import BATCH_METRICS, GOLD
from tweet_sentiment.defs.model import MlflowRegistry, report_cli_registration
from tweet_sentiment.defs.production_model import report_production_model
from tweet_sentiment.lakehouse.delta_log import latest_version
from tweet_sentiment.lakehouse.table_names import GOLD_TABLE, TOTALS_TABLE
from tweet_sentiment.model.registry import TRACKING_ENV_VAR, register_source
from tweet_sentiment.model.spark_scoring import ModelRef
from tweet_sentiment.settings import HomeLayout

log = logging.getLogger(__name__)

BATCH_JOB = "batch_pipeline"
AGGREGATES_JOB = "gold_aggregates"
RESCORE_SELECTION = [GOLD, BATCH_METRICS]


@dataclass
class AggregatesOutcome:
    """What the aggregate run produced, for the summary."""

    success: bool
    metadata: dict[str, object] = field(default_factory=dict)
    top_mentions: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    error: str | None = None


def registry_for(layout: HomeLayout) -> MlflowRegistry:
    """The MLflow store of this home (or $TWEET_SENTIMENT_MLFLOW_URI), as the code location configures it."""
    return MlflowRegistry(tracking_uri=os.environ.get(TRACKING_ENV_VAR) or None, home=str(layout.root))


def ensure_production_model(instance: dg.DagsterInstance, registry: MlflowRegistry,
                            step: Callable[[str], None] = log.info) -> ModelRef:
    """The production version, observed; registers the builtin model first when the registry has none."""
    try:
        return report_production_model(instance, registry)
    except LookupError:
        step("no HF_TWEET_SENTIMENT@production yet: registering the builtin model")
        registration = register_source("builtin", registry.tracking_uri, registry.home, step=step)
        report_cli_registration(instance, registration, command="tweet-sentiment (first use of the home)")
        return report_production_model(instance, registry)


def stale_gold_batches(spark: SparkSession, gold_path: Path, instance: dg.DagsterInstance, version: str) -> list[str]:
    """Existing batches whose gold rows were scored by a model version other than `version`."""
    if latest_version(gold_path) is None:
        return []
    stale = {r["batch"] for r in spark.read.format("delta").load(str(gold_path))
             .where(F.col("model_version") != version).select("batch").distinct().collect()}
    return [key for key in instance.get_dynamic_partitions("batches") if key in stale]


def rescore_batches(defs: dg.Definitions, instance: dg.DagsterInstance, batches: list[str],
                    run_config: dict | None = None) -> dict[str, str | None]:
    """Re-score gold (and its batch metrics) for each batch; batch -> error message, None when it worked."""
    job = defs.resolve_job_def(BATCH_JOB)
    outcome = {}
    for batch in batches:
        result = execute_from_cli(job, instance, tags={"tweet_sentiment/rescore": "1"}, partition_key=batch,
                                  asset_selection=RESCORE_SELECTION, run_config=run_config or {},
                                  raise_on_error=False)
        outcome[batch] = None if result.success else first_error(result)
    return outcome


def refresh_aggregates(defs: dg.Definitions, instance: dg.DagsterInstance, spark: SparkSession, layout: HomeLayout,
                       run_config: dict | None = None, top: int = 10,
                       selection: list[dg.AssetKey] | None = None) -> AggregatesOutcome:
    """Materialize the aggregates over all batches (mention_sentiment and sentiment_evaluation, or `selection`)."""
    if latest_version(layout.table(GOLD_TABLE)) is None:
        return AggregatesOutcome(False, error="no gold_predictions table yet: no batch has been scored")
    result = execute_from_cli(defs.resolve_job_def(AGGREGATES_JOB), instance, run_config=run_config or {},
                              raise_on_error=False, asset_selection=selection)
    if not result.success:
        return AggregatesOutcome(False, error=first_error(result))
    metadata = {}
    for event in result.get_asset_materialization_events():
        metadata |= {k: v.value for k, v in event.materialization.metadata.items()
                     if isinstance(v.value, (int, float, str)) and not str(v.value).startswith("![")}
    rows = (spark.read.format("delta").load(str(layout.table(TOTALS_TABLE)))
            .orderBy(F.desc("total"), F.asc("mention")).limit(top).collect())
    return AggregatesOutcome(True, metadata,
                             [(r["mention"], r["negative"], r["neutral"], r["positive"], r["total"]) for r in rows])
