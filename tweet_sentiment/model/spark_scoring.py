"""Scoring a Spark column with the registered MLflow pyfunc; the model is loaded once per Python worker.

Two scorers with the same output struct (`predicted_sentiment`, `predicted_score` 0-1): our pandas UDF, which keeps
the loaded model in a module-level cache keyed by its local path (one folder per model version), and MLflow's own
`mlflow.pyfunc.spark_udf`. docs/gold.md has the measurements that made the pandas UDF the default.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import mlflow.artifacts
import mlflow.pyfunc
import pandas as pd
from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.model.contract import PREDICTED_SCORE, PREDICTED_SENTIMENT, TEXT
from tweet_sentiment.model.production import ModelRef, local_model_path, production_model_ref  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

SCORE_SCHEMA = f"{PREDICTED_SENTIMENT} string, {PREDICTED_SCORE} double"
MODEL_LOADS = "model_loads"
"""1 on the first row a Python worker scored right after loading the model, else 0: summed, the cold loads of a run."""
PANDAS_SCORE_SCHEMA = f"{SCORE_SCHEMA}, {MODEL_LOADS} int"
MODELS_KEPT = 2  # per worker: the production version and, while re-scoring, the one before
PANDAS_UDF = "pandas_udf"
SPARK_UDF = "spark_udf"
SCORERS = (PANDAS_UDF, SPARK_UDF)

# One entry per model folder in each Python worker. Spark reuses workers across tasks, and every run of a home joins
# the engine's one session, so a worker keeps its model across runs until Spark ends it (idle for a minute).
_MODELS: dict[str, mlflow.pyfunc.PyFuncModel] = {}


def cached_model(path: str, threads: int = 0) -> tuple[mlflow.pyfunc.PyFuncModel, bool]:
    """The pyfunc model in `path`, loaded at most once per process, and whether this call loaded it. Versions beyond
    the newest MODELS_KEPT are dropped (one folder per version, so an old version is never served for a new one)."""
    model = _MODELS.get(path)
    if model is not None:
        return model, False
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(path)
    _MODELS[path] = model
    while len(_MODELS) > MODELS_KEPT:
        _MODELS.pop(next(iter(_MODELS)))
    log.warning("python worker %d loaded the model %s in %.1fs", os.getpid(), path, time.perf_counter() - started)
    return model, True


def score_batches(path: str, threads: int, batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
    """Score each Arrow batch of texts with the cached model (the body of the pandas UDF)."""
    model, cold = cached_model(path, threads)
    for texts in batches:
        scored = model.predict(pd.DataFrame({TEXT: texts.astype(object)}))
        out = scored[[PREDICTED_SENTIMENT, PREDICTED_SCORE]].reset_index(drop=True)
        out[MODEL_LOADS] = 0
        if cold and len(out):
            out.loc[0, MODEL_LOADS], cold = 1, False
        yield out


def pandas_scorer(path: Path, threads: int = 0) -> Callable[[Column], Column]:
    """A pandas UDF: text column -> struct(predicted_sentiment, predicted_score); the model cached per worker."""
    folder = str(path)

    @F.pandas_udf(PANDAS_SCORE_SCHEMA)
    def score(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        yield from score_batches(folder, threads, batches)

    return score


def mlflow_scorer(spark: SparkSession, path: Path) -> Callable[[Column], Column]:
    """MLflow's spark_udf over the same local model folder, in this Python environment."""
    udf = mlflow.pyfunc.spark_udf(spark, str(path), result_type=SCORE_SCHEMA, env_manager="local")
    return lambda text: udf(F.struct(text.alias(TEXT)))


def task_slots(spark: SparkSession) -> int:
    """How many tasks run at once on the engine: the cores of a `local[N]` master, else `spark.default.parallelism`.
    More partitions than slots only adds tasks (4 on 2 cores scored 25% slower than 2)."""
    master = spark.conf.get("spark.master", "")
    if master == "local":
        return 1
    if master.startswith("local["):
        cores = master[len("local["):].split(",")[0].rstrip("]")
        return (os.cpu_count() or 1) if cores == "*" else max(1, int(cores))
    return max(1, int(spark.conf.get("spark.default.parallelism", "2")))


def worker_threads(spark: SparkSession) -> int:
    """Torch threads per Python worker so that concurrent tasks do not oversubscribe the cores (local engine; on a
    cluster, 0: torch's default on each executor)."""
    master = spark.conf.get("spark.master", "")
    if not master.startswith("local"):
        return 0
    return max(1, (os.cpu_count() or 1) // task_slots(spark))


def scorer(kind: str, spark: SparkSession, path: Path) -> Callable[[Column], Column]:
    """The scorer named `kind` (see SCORERS); Python workers run the driver's interpreter (DeltaSparkResource)."""
    if kind == PANDAS_UDF:
        return pandas_scorer(path, worker_threads(spark))
    if kind == SPARK_UDF:
        return mlflow_scorer(spark, path)
    raise ValueError(f"unknown scorer {kind!r}; expected one of {SCORERS}")
