"""The sentiment model asset: a HuggingFace classifier registered in MLflow as HF_TWEET_SENTIMENT@production."""

import os
from pathlib import Path

import dagster as dg
import mlflow.pyfunc

from tweet_sentiment.model.registry import (ALIAS, TRACKING_ENV_VAR, Registration, load_production_model,
                                            register_source)


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
    """The semeval-task4a folder: if set, the model's dev macro-recall is measured; else the builtin's report is used."""


def _markdown_confusion(matrix: dict) -> str:
    labels = matrix["labels"]
    lines = ["| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(str(v) for v in row) + " |"
              for label, row in zip(labels, matrix["rows_true_cols_predicted"])]
    return "\n".join(lines)


@dg.asset(group_name="model", kinds={"mlflow", "huggingface"})
def sentiment_model(context: dg.AssetExecutionContext, config: SentimentModelConfig,
                    mlflow_registry: MlflowRegistry) -> dg.MaterializeResult:
    """The tweet sentiment classifier (NEG/NEU/POS + probability) registered in MLflow as HF_TWEET_SENTIMENT@production.

    Registering an identical model again reuses its version instead of adding one.
    """
    registration = mlflow_registry.register(config.source, config.dev_data, context)
    metadata: dict[str, dg.RawMetadataValue] = {
        "model_name": registration.name,
        "version": registration.version,
        "alias": ALIAS,
        "model_uri": f"models:/{registration.name}/{registration.version}",
        "source": registration.source,
        "base_model": registration.base_model,
        "dev_macro_recall": registration.dev_macro_recall if registration.dev_macro_recall is not None else "n/a",
        "size_mb": round(registration.size_bytes / 2**20, 1),
        "reused_existing_version": registration.reused,
        "mlflow_run": (dg.MetadataValue.url(registration.run_url) if registration.run_url.startswith("http")
                       else dg.MetadataValue.text(registration.run_url)),
    }
    metrics = registration.dev_metrics
    if metrics:
        metadata["dev_recall"] = dg.MetadataValue.json(metrics["recall"])
        metadata["dev_confusion_matrix"] = dg.MetadataValue.md(_markdown_confusion(metrics["confusion_matrix"]))
    return dg.MaterializeResult(metadata=metadata)


@dg.definitions
def mlflow_resources() -> dg.Definitions:
    # EnvVar only when set: unset means the local sqlite store under the home folder.
    tracking = dg.EnvVar(TRACKING_ENV_VAR) if os.environ.get(TRACKING_ENV_VAR) else None
    # A module with a @dg.definitions function contributes only what that function returns: list the asset here.
    return dg.Definitions(assets=[sentiment_model],
                          resources={"mlflow_registry": MlflowRegistry(tracking_uri=tracking)})
