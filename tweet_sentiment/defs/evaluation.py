"""Evaluation: given vs predicted sentiment per batch (a Delta table, for drift) and over all batches (MLflow runs)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path

import dagster as dg
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tweet_sentiment.charts import png_markdown
from tweet_sentiment.defs.asset_keys import BATCH_METRICS, GOLD
from tweet_sentiment.defs.model import MlflowRegistry
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.quality import numeric_metadata, rounded
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.lakehouse.delta_log import latest_version
from tweet_sentiment.lakehouse.table_names import BATCH_METRICS_TABLE, GOLD_TABLE, SILVER_TABLE
from tweet_sentiment.lakehouse.tables import SOURCE_VERSION_KEY, read_pinned, table_exists
from tweet_sentiment.model.evaluation_runs import evaluation_experiment, evaluation_run_name, log_evaluation
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.registry import ui_artifact_url, ui_experiment_url, ui_model_version_url, ui_run_url
from tweet_sentiment.transforms.evaluation import agreement_drift, classification_metrics, flat_metrics, summarize_gold
from tweet_sentiment.trend_charts import confusion_matrix_figure, figure_png, line_chart_png

BATCH_METRICS_SCHEMA = (
    "batch string, rows long, labelled_rows long, agreement double, macro_f1 double, recall_neg double, "
    "recall_neu double, recall_pos double, share_neg double, share_neu double, share_pos double, "
    "min_timestamp timestamp, max_timestamp timestamp, model_versions string, evaluated_at timestamp")


class BatchMetricsConfig(dg.Config):
    """When the agreement of a batch counts as drift: below the mean of earlier batches by more than
    max(max_drop, 3 standard deviations), once `min_history` earlier batches exist."""

    min_history: int = 3
    max_drop: float = 0.10
    window: int = 20


def _distinct(gold: DataFrame, column: str) -> list[str]:
    return sorted(r[column] for r in gold.select(column).distinct().collect() if r[column] is not None)


def batch_metrics_row(gold: DataFrame, batch: str) -> dict:
    """One batch's metrics: agreement (accuracy), macro-F1 and recall per class, share of each predicted label."""
    summary = summarize_gold(gold)
    metrics = classification_metrics(summary.cells) if summary.cells else None
    return {
        "batch": batch, "rows": summary.rows, "labelled_rows": metrics["rows"] if metrics else 0,
        "agreement": metrics["accuracy"] if metrics else None, "macro_f1": metrics["macro_f1"] if metrics else None,
        **{f"recall_{label.lower()}": (metrics["recall"][label] if metrics else None) for label in LABELS},
        **{f"share_{label.lower()}": summary.shares[label] for label in LABELS},
        "min_timestamp": summary.min_timestamp, "max_timestamp": summary.max_timestamp,
        "model_versions": ",".join(summary.model_versions), "evaluated_at": datetime.now(UTC),
    }


def agreement_history(spark: SparkSession, path: str, batch: str, window: int) -> list[float]:
    """Agreement of up to `window` batches created before `batch` (keys sort by creation time)."""
    if not table_exists(Path(path)):
        return []
    rows = (spark.read.format("delta").load(path).where((F.col("batch") < batch) & F.col("agreement").isNotNull())
            .orderBy(F.desc("batch")).limit(window).select("agreement").collect())
    return [float(r["agreement"]) for r in rows]


@dg.asset(
    key=BATCH_METRICS,
    ins={"gold_predictions": dg.AssetIn(GOLD)},
    partitions_def=batches,
    # With gold in "inference": the per-batch assets the batch pipeline job selects by group.
    group_name="inference",
    io_manager_key="delta_io_manager",
    metadata={"partition_expr": "batch"},
    kinds={"spark", "delta"},
    pool="lakehouse_metrics",
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec("agreement_drift", asset=BATCH_METRICS,
                                   description="Warns when a batch's agreement between given and predicted "
                                               "sentiment drops well below the running norm.")],
)
def sentiment_batch_metrics(context: dg.AssetExecutionContext, config: BatchMetricsConfig, pyspark: DeltaSparkResource,
                            tweet_home: TweetSentimentHome,
                            gold_predictions: DataFrame) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """One row per batch: agreement, macro-F1, recall per class and share of each predicted class, so that drift
    shows as a line over batches."""
    spark = pyspark.spark_session
    batch = context.partition_key
    row = batch_metrics_row(gold_predictions, batch)
    history = agreement_history(spark, str(tweet_home.layout.table(BATCH_METRICS_TABLE)), batch, config.window)
    yield dg.Output(spark.createDataFrame([row], BATCH_METRICS_SCHEMA), metadata=numeric_metadata(row))
    if row["agreement"] is None:
        yield dg.AssetCheckResult(check_name="agreement_drift", passed=True, severity=dg.AssetCheckSeverity.WARN,
                                  metadata={"reason": "no labelled rows in this batch"})
        return
    passed, norm, threshold = agreement_drift(row["agreement"], history, config.min_history, config.max_drop)
    yield dg.AssetCheckResult(
        check_name="agreement_drift", passed=passed, severity=dg.AssetCheckSeverity.WARN,
        metadata={"agreement": rounded(row["agreement"]), "norm": rounded(norm) if norm is not None else "n/a",
                  "threshold": rounded(threshold) if threshold is not None else "n/a",
                  "earlier_batches": len(history)})


def _confusion_markdown(matrix: list[list[int]]) -> str:
    lines = ["| given \\ predicted | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(str(v) for v in row) + " |"
              for label, row in zip(LABELS, matrix, strict=True)]
    return "\n".join(lines)


TREND_ARTIFACT = "agreement_per_batch.png"
CONFUSION_ARTIFACT = "confusion_matrix.png"


def trend_png(batch_metrics: DataFrame) -> bytes | None:
    """Agreement, macro-F1 and the predicted positive share per batch, oldest first; None before any batch."""
    rows = batch_metrics.orderBy("batch").select("batch", "agreement", "macro_f1", "share_pos").collect()
    if not rows:
        return None
    return line_chart_png("Agreement per batch", [r["batch"][:16] for r in rows],
                          {name: [r[name] for r in rows] for name in ("agreement", "macro_f1", "share_pos")},
                          compact=True)


def chart(png: bytes | None, alt: str, run_id: str, artifact: str) -> dg.MetadataValue:
    """The picture as markdown: a link to the run's artifact in the MLflow UI when one runs (short markdown, which
    the asset page shows without a click), else the PNG embedded (behind "Show Markdown")."""
    if png is None:
        return dg.MetadataValue.md(f"*{alt}: no data yet*")
    url = ui_artifact_url(run_id, artifact)
    return dg.MetadataValue.md(f"![{alt}]({url})" if url else png_markdown(png, alt))


def mlflow_links(experiment_id: str, run_id: str, model_name: str, versions: list[str]) -> dict[str, dg.MetadataValue]:
    """Links to the evaluation run and the model version(s) it evaluated in the MLflow UI; none without a UI."""
    run = ui_run_url(experiment_id, run_id)
    if run is None:
        return {}
    links = {"mlflow_run": dg.MetadataValue.url(run),
             "mlflow_experiment": dg.MetadataValue.url(ui_experiment_url(experiment_id))}
    for version in versions:
        key = "mlflow_model_version" if len(versions) == 1 else f"mlflow_model_version_{version}"
        links[key] = dg.MetadataValue.url(ui_model_version_url(model_name, version))
    return links


@dg.asset(
    deps=[GOLD],
    ins={"sentiment_batch_metrics": dg.AssetIn(BATCH_METRICS)},
    group_name="evaluation",
    kinds={"spark", "mlflow"},
)
def sentiment_evaluation(context: dg.AssetExecutionContext, pyspark: DeltaSparkResource, tweet_home: TweetSentimentHome,
                         mlflow_registry: MlflowRegistry, sentiment_batch_metrics: DataFrame) -> dg.MaterializeResult:
    """Given vs predicted sentiment over all batches: precision, recall, F1 per class and macro, accuracy and the
    confusion matrix, logged as an MLflow run (with the Delta versions read) and shown here."""
    spark = pyspark.spark_session
    gold_predictions, gold_version = read_pinned(spark, tweet_home.layout.table(GOLD_TABLE))
    silver_version = latest_version(tweet_home.layout.table(SILVER_TABLE))
    covered = sorted(r["batch"] for r in gold_predictions.select("batch").distinct().collect())
    model_names = _distinct(gold_predictions, "model_name")
    summary = summarize_gold(gold_predictions)
    models, metrics, shares = summary.model_versions, classification_metrics(summary.cells), summary.shares
    flat = flat_metrics(metrics) | {f"share_{k.lower()}": v for k, v in shares.items()}
    params = {"model_name": ",".join(model_names), "model_version": ",".join(models),
              "mlflow_version": package_version("mlflow"), "silver_delta_version": silver_version,
              "gold_delta_version": gold_version, "batches_count": len(covered), "batches": ",".join(covered)}
    figure = confusion_matrix_figure(metrics["confusion_matrix"], LABELS, "Given vs predicted sentiment")
    trend = trend_png(sentiment_batch_metrics)
    client, experiment_id = evaluation_experiment(mlflow_registry.tracking_uri, mlflow_registry.home)
    run_id = log_evaluation(client, experiment_id, flat | {"rows": metrics["rows"]}, params, figure,
                            {**metrics, "batches": covered, "predicted_shares": shares},
                            {"dagster_run_id": context.run_id}, run_name=evaluation_run_name(covered, models),
                            images={TREND_ARTIFACT: trend} if trend is not None else None)
    context.log.info(f"evaluation logged as MLflow run {run_id}: macro-F1 {metrics['macro_f1']:.3f}")
    # Ordered as the asset page lists them: the headline numbers, the pictures and links, then the details.
    headline = ("macro_f1", "accuracy")
    return dg.MaterializeResult(metadata={
        **{k: rounded(flat[k]) for k in headline}, "rows_evaluated": metrics["rows"],
        "agreement_per_batch": chart(trend, "agreement per batch", run_id, TREND_ARTIFACT),
        **mlflow_links(experiment_id, run_id, model_names[0] if model_names else "", models),
        "confusion_matrix": dg.MetadataValue.md(_confusion_markdown(metrics["confusion_matrix"])),
        "confusion_matrix_chart": chart(figure_png(figure, compact=True), "confusion matrix", run_id,
                                        CONFUSION_ARTIFACT),
        **{k: rounded(v) for k, v in flat.items() if k not in headline},
        "mlflow_run_id": run_id, "mlflow_experiment_id": experiment_id,
        "model_version": ",".join(models), "gold_delta_version": gold_version, SOURCE_VERSION_KEY: gold_version,
        "silver_delta_version": silver_version if silver_version is not None else -1,
        "batches_covered": len(covered),
    })
