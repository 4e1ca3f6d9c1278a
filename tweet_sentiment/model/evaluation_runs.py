"""MLflow runs for evaluations: one run per evaluation in experiment `tweet_sentiment_evaluation`."""

import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import mlflow
from matplotlib.figure import Figure
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus

from tweet_sentiment.model.registry import EXPERIMENT_KIND_TAG, MODEL_TRAINING_KIND, configure, mark_model_training
from tweet_sentiment.settings import HomeLayout

EVALUATION_EXPERIMENT = "tweet_sentiment_evaluation"
EVALUATION_DESCRIPTION = (
    "One run per refresh of the Dagster asset sentiment_evaluation: given vs predicted sentiment over every batch "
    "of gold_predictions (precision, recall, F1 per class and macro, accuracy, confusion matrix, agreement per batch).")
EXPERIMENT_TAGS = {EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND, "mlflow.note.content": EVALUATION_DESCRIPTION}
MAX_PARAM_CHARS = 6000  # MLflow's limit on a param value


def evaluation_experiment(tracking_uri: str | None, home: str | Path | None) -> tuple[MlflowClient, str]:
    """A client on the project's store and the evaluation experiment's id (created with artifacts under <home>)."""
    configure(tracking_uri, home)
    uri = mlflow.get_tracking_uri()
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(EVALUATION_EXPERIMENT)
    if experiment is not None:
        mark_model_training(client, experiment.experiment_id, experiment.tags)
        return client, experiment.experiment_id
    # With a sqlite store the default artifact root is the working directory: pin it under the home instead.
    location = None if tracking_uri else (HomeLayout.resolve(home).mlflow / "artifacts").as_uri()
    try:
        return client, client.create_experiment(EVALUATION_EXPERIMENT, artifact_location=location,
                                                tags=EXPERIMENT_TAGS)
    except mlflow.exceptions.MlflowException:
        experiment = client.get_experiment_by_name(EVALUATION_EXPERIMENT)  # created by a concurrent run
        if experiment is None:
            raise
        return client, experiment.experiment_id


def param_value(value: object) -> str:
    """A param value within MLflow's length limit (long values are cut and marked)."""
    text = str(value)
    return text if len(text) <= MAX_PARAM_CHARS else text[:MAX_PARAM_CHARS - 20] + "...(truncated)"


def evaluation_run_name(batches: Sequence[str], model_versions: Sequence[str]) -> str:
    """A run name that tells evaluations apart in the MLflow UI, what differs first (the UI cuts long names): model
    version(s), batch count, then the range of batch keys by their creation time."""
    stamps = [b.split("-")[0] for b in batches]  # b20261128T011947-9307b4af43: the time is what a person reads
    span = "" if not stamps else f", {stamps[0]}" if len(stamps) == 1 else f", {stamps[0]}..{stamps[-1]}"
    noun = "batch" if len(batches) == 1 else "batches"
    return f"eval v{'+'.join(model_versions) or 'none'}, {len(batches)} {noun}{span}"


def log_evaluation(client: MlflowClient, experiment_id: str, metrics: Mapping[str, float],
                   params: Mapping[str, object], figure: Figure, details: dict, tags: Mapping[str, str],
                   run_name: str = "sentiment-evaluation", images: Mapping[str, bytes] | None = None) -> str:
    """One finished run with metrics, params, the confusion-matrix image, other PNG images (name -> bytes) and the
    full numbers as JSON; its id."""
    run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags))
    run_id = run.info.run_id
    try:
        now = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
                         params=[Param(k, param_value(v)) for k, v in params.items()])
        client.log_figure(run_id, figure, "confusion_matrix.png")
        with tempfile.TemporaryDirectory() as folder:
            for name, png in (images or {}).items():
                (Path(folder) / name).write_bytes(png)
                client.log_artifact(run_id, str(Path(folder) / name))
        client.log_dict(run_id, details, "evaluation.json")
    except Exception:
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
        raise
    client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))
    return run_id
