"""MLflow store setup, registration of HF_TWEET_SENTIMENT with alias `production`, and loading it back."""

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion

from tweet_sentiment.locks import file_lock
from tweet_sentiment.model.contract import DEFAULT_MODEL_CONFIG, INPUT_EXAMPLE, MODEL_ARTIFACT, SIGNATURE
from tweet_sentiment.settings import HomeLayout

if TYPE_CHECKING:  # torch and transformers load only where a model is registered or scored
    from tweet_sentiment.model.sources import LoadedSource

log = logging.getLogger(__name__)

TRACKING_ENV_VAR = "TWEET_SENTIMENT_MLFLOW_URI"
"""A tracking server for the project. Not MLFLOW_TRACKING_URI: mlflow.set_tracking_uri() writes that variable,
so one registration would silently redirect every later one in the same process."""
MODEL_NAME = "HF_TWEET_SENTIMENT"
ALIAS = "production"
EXPERIMENT = "tweet_sentiment_model"
MLFLOW_UI_ENV_VAR = "TWEET_SENTIMENT_MLFLOW_UI_URL"
"""Base URL of a running MLflow UI (`tweet-sentiment dev` starts one): Dagster metadata links into it when set."""
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"
"""MLflow 3's experiment type for classic model training: the UI opens on runs instead of the GenAI traces page."""
MODEL_DESCRIPTION = (
    "Tweet sentiment classifier: text in, predicted_sentiment (NEG/NEU/POS) and predicted_score (0-100) out. "
    "Registered by tweet_sentiment (`tweet-sentiment model register` or the Dagster asset sentiment_model); "
    f"the alias `{ALIAS}` is the version that gold_predictions scores with.")
HASH_TAG = "content_hash"
# Bump when the pyfunc's behaviour changes, so that identical weights under new code get a new version.
WRAPPER_VERSION = "1"
_REQUIREMENTS = ("mlflow", "torch", "transformers", "pandas", "numpy", "scikit-learn")


def tracking_uri_for(tracking_uri: str | None, home: str | Path | None) -> str:
    """The given tracking URI, else a sqlite store at <home>/mlflow/mlflow.db (sqlite so the registry works)."""
    if tracking_uri:
        return tracking_uri
    folder = HomeLayout.resolve(home).mlflow
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def configure(tracking_uri: str | None = None, home: str | Path | None = None) -> str:
    """Point MLflow (tracking and registry) at the store and make sure the experiment exists; return its id.

    The home's sqlite store is created by one process at a time (two creating its schema at once break it).
    """
    uri = tracking_uri_for(tracking_uri, home)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if tracking_uri:
        return _experiment_id(None)
    layout = HomeLayout.resolve(home)
    # With a sqlite store the default artifact root is the working directory: pin it under the home instead, for
    # the `Default` experiment MLflow makes with the store as well as for ours.
    artifacts = (layout.mlflow / "artifacts").as_uri()
    with file_lock(layout.locks / "stores.lock", what="creating the MLflow store"):
        if not (layout.mlflow / "mlflow.db").exists():
            from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

            SqlAlchemyStore(uri, artifacts)
        return _experiment_id(artifacts)


def _experiment_id(artifact_location: str | None) -> str:
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        mark_model_training(MlflowClient(), experiment.experiment_id, experiment.tags)
        return experiment.experiment_id
    return mlflow.create_experiment(EXPERIMENT, artifact_location=artifact_location,
                                    tags={EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND})


def mark_model_training(client: MlflowClient, experiment_id: str, tags: dict[str, str]) -> None:
    """Type an experiment as model training (MLflow 3 opens an untyped one on its GenAI traces page)."""
    if tags.get(EXPERIMENT_KIND_TAG) != MODEL_TRAINING_KIND:
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND)


def mlflow_ui_url() -> str | None:
    """The MLflow UI's base URL from $TWEET_SENTIMENT_MLFLOW_UI_URL, without a trailing slash; None when unset."""
    url = os.environ.get(MLFLOW_UI_ENV_VAR, "").strip().rstrip("/")
    return url or None


# MLflow 3.x UIs choose between their GenAI and model-training views by this query parameter (else by the last
# choice stored in the browser, GenAI at first); older ones ignore it. The experiment tag above covers the rest.
ML_VIEW = "workflowType=machine_learning"


def ui_experiment_url(experiment_id: str, base: str | None = None) -> str | None:
    """The experiment's runs in the MLflow UI (model-training view), None without a UI."""
    base = base or mlflow_ui_url()
    return f"{base}/#/experiments/{experiment_id}?{ML_VIEW}" if base else None


def ui_run_url(experiment_id: str, run_id: str, base: str | None = None) -> str | None:
    """The run's page in the MLflow UI (model-training view), None without a UI."""
    base = base or mlflow_ui_url()
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{ML_VIEW}" if base and run_id else None


def ui_model_version_url(name: str, version: str, base: str | None = None) -> str | None:
    """The registered model version's page in the MLflow UI, None without a UI."""
    base = base or mlflow_ui_url()
    return f"{base}/#/models/{quote(name)}/versions/{quote(str(version))}?{ML_VIEW}" if base else None


def ui_artifact_url(run_id: str, path: str, base: str | None = None) -> str | None:
    """A URL that serves one of the run's artifacts (an image for Dagster markdown), None without a UI."""
    base = base or mlflow_ui_url()
    return f"{base}/get-artifact?{urlencode({'path': path, 'run_uuid': run_id})}" if base else None


def describe(client: MlflowClient, version: str, description: str) -> None:
    """Describe the registered model and one version of it in the registry (kept when already so)."""
    if (client.get_registered_model(MODEL_NAME).description or "") != MODEL_DESCRIPTION:
        client.update_registered_model(MODEL_NAME, description=MODEL_DESCRIPTION)
    if not client.get_model_version(MODEL_NAME, version).description:
        client.update_model_version(MODEL_NAME, version, description=description)


def version_description(source: str, base_model: str, dev_metrics: dict | None) -> str:
    """What a version is, for the registry page: where it came from and how it scored on the dev set."""
    recall = f"dev macro-recall {dev_metrics['macro_recall']:.3f}" if dev_metrics else "dev metrics not measured"
    return f"Source {source} (base model {base_model}); {recall}."


def content_hash(folder: Path, model_config: dict) -> str:
    """SHA-256 of every file in a saved model folder, the scoring config and the wrapper version."""
    digest = hashlib.sha256(json.dumps({"config": model_config, "wrapper": WRAPPER_VERSION}, sort_keys=True).encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def find_version(client: MlflowClient, digest: str) -> ModelVersion | None:
    """An existing version of HF_TWEET_SENTIMENT with the same content hash, if any."""
    for candidate in client.search_model_versions(f"name='{MODEL_NAME}'"):
        if candidate.tags.get(HASH_TAG) == digest:
            return candidate
    return None


@dataclass(frozen=True)
class Registration:
    """What was registered (or found already registered) and where."""

    name: str
    version: str
    run_id: str
    run_url: str
    source: str
    base_model: str
    dev_metrics: dict | None
    size_bytes: int
    reused: bool
    experiment_id: str = ""

    @property
    def dev_macro_recall(self) -> float | None:
        return self.dev_metrics["macro_recall"] if self.dev_metrics else None


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """A browser link for a tracking server, else the `runs:/` URI (open it with `mlflow ui --backend-store-uri
    ...`)."""
    if tracking_uri.startswith(("http://", "https://")):
        return f"{tracking_uri.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
    return f"runs:/{run_id}"


def _reset_tokenizer_state(loaded: "LoadedSource") -> None:
    """Forget the truncation/padding that scoring left on a fast tokenizer: tokenizer.json would save it and change
    the content hash of an otherwise identical model."""
    backend = getattr(loaded.tokenizer, "backend_tokenizer", None)
    if backend is not None:
        backend.no_truncation()
        backend.no_padding()


def register(loaded: "LoadedSource", tracking_uri: str | None = None, home: str | Path | None = None,
             dev_metrics: dict | None = None, model_config: dict | None = None,
             tags: dict[str, str] | None = None, step: Callable[[str], None] = log.info) -> Registration:
    """Log the model as an MLflow pyfunc, register it and point `production` at it; reuse an identical version."""
    from tweet_sentiment.model.pyfunc import SentimentPyfunc
    config = {**DEFAULT_MODEL_CONFIG, **(model_config or {})}
    experiment_id = configure(tracking_uri, home)
    uri = mlflow.get_tracking_uri()
    client = MlflowClient()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / MODEL_ARTIFACT
        step("saving the model in HuggingFace layout")
        _reset_tokenizer_state(loaded)
        loaded.model.save_pretrained(folder)
        loaded.tokenizer.save_pretrained(folder)
        digest = content_hash(folder, config)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        existing = find_version(client, digest)
        if existing is not None:
            step(f"identical model already registered as version {existing.version}")
            client.set_registered_model_alias(MODEL_NAME, ALIAS, existing.version)
            describe(client, str(existing.version), version_description(loaded.source, loaded.base_model,
                                                                        dev_metrics))
            experiment = client.get_run(existing.run_id).info.experiment_id if existing.run_id else experiment_id
            return Registration(MODEL_NAME, str(existing.version), existing.run_id or "",
                                run_url(uri, experiment, existing.run_id or ""), loaded.source, loaded.base_model,
                                dev_metrics, size, reused=True, experiment_id=experiment)
        step("logging the model to MLflow")
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"register-{Path(loaded.source).name}") as run:
            mlflow.set_tags({"source": loaded.source, "base_model": loaded.base_model, **(tags or {})})
            mlflow.log_params({"source": loaded.source, "base_model": loaded.base_model, **config})
            if dev_metrics:
                mlflow.log_metrics({"dev_macro_recall": dev_metrics["macro_recall"],
                                    **{f"dev_recall_{k}": v for k, v in dev_metrics["recall"].items()}})
                mlflow.log_dict(dev_metrics, "dev_metrics.json")
            info = mlflow.pyfunc.log_model(
                name="model", python_model=SentimentPyfunc(), artifacts={MODEL_ARTIFACT: str(folder)},
                signature=SIGNATURE, input_example=INPUT_EXAMPLE, model_config=config,
                pip_requirements=[f"{package}=={version(package)}" for package in _REQUIREMENTS],
                registered_model_name=MODEL_NAME)
    registered = str(info.registered_model_version)
    step(f"registered {MODEL_NAME} version {registered}; pointing @{ALIAS} at it")
    client.set_model_version_tag(MODEL_NAME, registered, HASH_TAG, digest)
    client.set_model_version_tag(MODEL_NAME, registered, "source", loaded.source)
    client.set_registered_model_alias(MODEL_NAME, ALIAS, registered)
    describe(client, registered, version_description(loaded.source, loaded.base_model, dev_metrics))
    return Registration(MODEL_NAME, registered, run.info.run_id, run_url(uri, experiment_id, run.info.run_id),
                        loaded.source, loaded.base_model, dev_metrics, size, reused=False,
                        experiment_id=experiment_id)


def production_uri() -> str:
    """`models:/HF_TWEET_SENTIMENT@production`."""
    return f"models:/{MODEL_NAME}@{ALIAS}"


def load_production_model(tracking_uri: str | None = None, home: str | Path | None = None) -> mlflow.pyfunc.PyFuncModel:
    """The pyfunc model that alias `production` points at; fails with a hint when nothing is registered yet."""
    configure(tracking_uri, home)
    try:
        MlflowClient().get_model_version_by_alias(MODEL_NAME, ALIAS)
    except mlflow.exceptions.MlflowException as error:
        raise LookupError(f"no {MODEL_NAME}@{ALIAS} in {mlflow.get_tracking_uri()}; run `tweet-sentiment model "
                          "register` (or materialize the sentiment_model asset) first") from error
    return mlflow.pyfunc.load_model(production_uri())


def register_source(source: str, tracking_uri: str | None = None, home: str | Path | None = None,
                    dev_data: Path | None = None, model_config: dict | None = None,
                    tags: dict[str, str] | None = None, step: Callable[[str], None] = log.info) -> Registration:
    """Load a source (builtin, folder or hub id), measure it on the dev set if given, register it as production."""
    from tweet_sentiment.model.evaluate import dev_metrics
    from tweet_sentiment.model.sources import load_source

    step(f"loading model source {source!r}")
    loaded = load_source(source)
    if dev_data is not None:
        step(f"evaluating on the dev set in {dev_data}")
    metrics = dev_metrics(loaded, dev_data)
    return register(loaded, tracking_uri, home, dev_metrics=metrics, model_config=model_config, tags=tags, step=step)
