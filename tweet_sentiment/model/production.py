"""The production model version, pinned, and its local copy: what gold and `model predict` both load.

A registered version never changes, so its artifacts are downloaded once under <home>/mlflow/model_cache and every
later load reads that folder (loading `models:/...@production` directly copies the whole model on every call).
"""

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import mlflow.artifacts
from mlflow import MlflowClient

from tweet_sentiment.model.registry import ALIAS, MODEL_NAME, configure
from tweet_sentiment.settings import HomeLayout


@dataclass(frozen=True)
class ModelRef:
    """One registered model version, pinned: the alias is read once and this version scores the whole batch."""

    name: str
    version: str
    tracking_uri: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def production_model_ref(tracking_uri: str | None = None, home: str | Path | None = None) -> ModelRef:
    """The version `production` points at now; fails with a hint when nothing is registered."""
    configure(tracking_uri, home)
    uri = mlflow.get_tracking_uri()
    try:
        version = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version_by_alias(MODEL_NAME, ALIAS)
    except mlflow.exceptions.MlflowException as error:
        raise LookupError(f"no {MODEL_NAME}@{ALIAS} in {uri}; run `tweet-sentiment model register` "
                          "(or materialize the sentiment_model asset) first") from error
    return ModelRef(MODEL_NAME, str(version.version), uri)


def local_model_path(ref: ModelRef, home: str | Path | None = None) -> Path:
    """A local copy of the model version under <home>/mlflow/model_cache, downloaded once per version."""
    store = hashlib.sha256(ref.tracking_uri.encode()).hexdigest()[:8]
    target = HomeLayout.resolve(home).mlflow / "model_cache" / f"{ref.name}-v{ref.version}-{store}"
    if (target / "MLmodel").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        downloaded = Path(mlflow.artifacts.download_artifacts(artifact_uri=ref.uri, dst_path=str(staging),
                                                              tracking_uri=ref.tracking_uri))
        # A concurrent run may have finished the same download first; both copies are identical.
        if not (target / "MLmodel").exists():
            shutil.rmtree(target, ignore_errors=True)
            downloaded.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
