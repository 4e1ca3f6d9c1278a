"""The `production` alias as an observable asset whose data version is the model version it points at.

Gold depends on it, so gold partitions scored before the alias moved show as stale in the UI, and gold's automation
condition re-scores them. A sensor reports an observation (no run) whenever the alias points somewhere new.
"""

import dagster as dg
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from tweet_sentiment.defs.asset_keys import PRODUCTION_MODEL
from tweet_sentiment.defs.model import MlflowRegistry
from tweet_sentiment.model.registry import ui_model_version_url
from tweet_sentiment.model.spark_scoring import ModelRef, production_model_ref


def production_ref(registry: MlflowRegistry) -> ModelRef:
    """The version `production` points at in the registry this resource names."""
    return production_model_ref(registry.tracking_uri, registry.home)


def _metadata(ref: ModelRef) -> dict[str, object]:
    link = ui_model_version_url(ref.name, ref.version)
    return {"model_name": ref.name, "model_version": ref.version, "model_uri": ref.uri,
            **({"mlflow_model_version": dg.MetadataValue.url(link)} if link else {})}


def observation(ref: ModelRef) -> dg.AssetObservation:
    """An observation of the alias carrying the model version as its data version."""
    return dg.AssetObservation(asset_key=PRODUCTION_MODEL, tags={DATA_VERSION_TAG: ref.version},
                               metadata=_metadata(ref))


def observed_version(instance: dg.DagsterInstance) -> str | None:
    """The model version of the latest observation of the alias, None before the first."""
    records = instance.fetch_observations(PRODUCTION_MODEL, limit=1).records
    if not records:
        return None
    return (records[0].asset_observation.tags or {}).get(DATA_VERSION_TAG)


def report_production_model(instance: dg.DagsterInstance, registry: MlflowRegistry) -> ModelRef:
    """Record an observation when the alias moved since the last one (what the CLI does before scoring)."""
    ref = production_ref(registry)
    if observed_version(instance) != ref.version:
        instance.report_runless_asset_event(observation(ref))
    return ref


@dg.observable_source_asset(key=PRODUCTION_MODEL, group_name="model", description=(
    "The model version that HF_TWEET_SENTIMENT@production points at; its data version is that version, so gold "
    "partitions scored by another version show as stale."))
def production_model(mlflow_registry: MlflowRegistry) -> dg.ObserveResult:
    """Read the alias from the MLflow registry."""
    ref = production_ref(mlflow_registry)
    return dg.ObserveResult(data_version=dg.DataVersion(ref.version), metadata=_metadata(ref))


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Observes HF_TWEET_SENTIMENT@production; a new version makes gold stale and re-scores it.")
def production_model_sensor(context: dg.SensorEvaluationContext,
                            mlflow_registry: MlflowRegistry) -> dg.SensorResult | dg.SkipReason:
    """Report an observation (no run) when the alias points at a version not observed yet."""
    try:
        ref = production_ref(mlflow_registry)
    except LookupError as error:
        return dg.SkipReason(str(error))
    if observed_version(context.instance) == ref.version:
        return dg.SkipReason(f"production is still version {ref.version}")
    context.log.info(f"production now points at {ref.uri}")
    return dg.SensorResult(asset_events=[observation(ref)])
