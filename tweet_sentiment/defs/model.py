"""The sentiment model asset: a HuggingFace classifier registered in MLflow as HF_TWEET_SENTIMENT@production."""

import os
from pathlib import Path

import dagster as dg
import mlflow.pyfunc

from tweet_sentiment.defs.asset_keys import SENTIMENT_MODEL
from tweet_sentiment.model.registry import (
    ALIAS,
    TRACKING_ENV_VAR,
    Registration,
    load_production_model,
    register_source,
    ui_model_version_url,
    ui_run_url,
)

REPORTED_BY_TAG = "tweet_sentiment/reported_by"


class MlflowRegistry(dg.ConfigurableResource):
    """The MLflow tracking + registry store; default: sqlite at <home>/mlflow/mlflow.db, artifacts beside it."""

    tracking_uri: str | None = None
    home: str | None = None

    def register(self, source: str, dev_data: str | None, context: dg.AssetExecutionContext) -> Registration:
        """Register a model source and point the `production` alias at it."""
        return register_source(source, self.tracking_uri, self.home, Path(dev_data) if dev_data else None,
                               tags={"dagster_run_id": context.run_id}, step=context.log.info)

    def load_production(self) -> mlflow.pyfunc.PyFuncModel:
        """The pyfunc model that `production` points at (what gold scores with)."""
        return load_production_model(self.tracking_uri, self.home)


class SentimentModelConfig(dg.Config):
    """Which model to register: `builtin`, a local HuggingFace folder, or a hub id (needs internet)."""

    source: str = "builtin"
    dev_data: str | None = None
    """The semeval-task4a folder: if set, the model's dev macro-recall is measured; else the builtin's report is
    used."""


def _markdown_confusion(matrix: dict) -> str:
    labels = matrix["labels"]
    lines = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(str(v) for v in row) + " |"
              for label, row in zip(labels, matrix["rows_true_cols_predicted"], strict=True)]
    return "\n".join(lines)


def registration_metadata(registration: Registration) -> dict[str, object]:
    """What the UI shows for a registration, with links into the MLflow UI when one runs."""
    run_link = ui_run_url(registration.experiment_id, registration.run_id) if registration.experiment_id else None
    version_link = ui_model_version_url(registration.name, registration.version)
    metadata: dict[str, object] = {
        "model_name": registration.name,
        "version": registration.version,
        "alias": ALIAS,
        "model_uri": f"models:/{registration.name}/{registration.version}",
        **({"mlflow_model_version": dg.MetadataValue.url(version_link)} if version_link else {}),
        "source": registration.source,
        "base_model": registration.base_model,
        "dev_macro_recall": (round(registration.dev_macro_recall, 4) if registration.dev_macro_recall is not None
                             else "n/a"),
        "size_mb": round(registration.size_bytes / 2**20, 1),
        "reused_existing_version": registration.reused,
        "mlflow_run": (dg.MetadataValue.url(run_link or registration.run_url)
                       if run_link or registration.run_url.startswith("http")
                       else dg.MetadataValue.text(registration.run_url)),
    }
    metrics = registration.dev_metrics
    if metrics:
        metadata["dev_recall"] = dg.MetadataValue.table(
            [dg.TableRecord({"label": label, "recall": round(float(value), 4)})
             for label, value in metrics["recall"].items()],
            dg.TableSchema([dg.TableColumn("label", "string"), dg.TableColumn("recall", "float")]))
        metadata["dev_confusion_matrix"] = dg.MetadataValue.md(_markdown_confusion(metrics["confusion_matrix"]))
    return metadata


@dg.asset(key=SENTIMENT_MODEL, group_name="model", kinds={"mlflow", "huggingface"})
def sentiment_model(context: dg.AssetExecutionContext, config: SentimentModelConfig,
                    mlflow_registry: MlflowRegistry) -> dg.MaterializeResult:
    """The tweet sentiment classifier (NEG/NEU/POS + probability) registered in MLflow as HF_TWEET_SENTIMENT@production.

    Registering an identical model again reuses its version instead of adding one. `tweet-sentiment model register`
    reports its registrations here too.
    """
    registration = mlflow_registry.register(config.source, config.dev_data, context)
    return dg.MaterializeResult(metadata=registration_metadata(registration))


def report_cli_registration(instance: dg.DagsterInstance, registration: Registration,
                            command: str = "tweet-sentiment model register") -> None:
    """Record a registration made outside Dagster (the CLI) as a materialization of sentiment_model, without a run,
    so that the asset does not read "Never materialized" when the model was registered from the command line."""
    instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key=SENTIMENT_MODEL, metadata={**registration_metadata(registration), "registered_by": command},
        tags={REPORTED_BY_TAG: "cli"}))


@dg.definitions
def mlflow_resources() -> dg.Definitions:
    # EnvVar only when set: unset means the local sqlite store under the home folder.
    tracking = dg.EnvVar(TRACKING_ENV_VAR) if os.environ.get(TRACKING_ENV_VAR) else None
    # A module with a @dg.definitions function contributes only what that function returns: list the asset here.
    return dg.Definitions(assets=[sentiment_model],
                          resources={"mlflow_registry": MlflowRegistry(tracking_uri=tracking)})
