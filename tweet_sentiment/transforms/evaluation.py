"""Evaluation of given vs predicted sentiment: Spark reduces gold to a 3x3 confusion matrix, scikit-learn scores it.

Only the nine (given, predicted) counts leave Spark, so the cost does not grow with the table; scikit-learn gets
them as weighted samples, which gives exactly the metrics of the full rows.
"""

from collections.abc import Sequence
from statistics import mean, pstdev

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.transforms.gold import sentiment_label

Cells = list[tuple[str, str, int]]


def confusion_cells(gold: DataFrame) -> Cells:
    """(given label, predicted label, rows) for every labelled gold row; rows without a given sentiment are left out."""
    rows = (gold.select(sentiment_label(F.col("sentiment")).alias("given"), "predicted_sentiment")
            .where(F.col("given").isNotNull() & F.col("predicted_sentiment").isNotNull())
            .groupBy("given", "predicted_sentiment").count().collect())
    return sorted((row["given"], row["predicted_sentiment"], int(row["count"])) for row in rows)


def predicted_shares(gold: DataFrame) -> dict[str, float]:
    """Share of each predicted label over all gold rows (labelled or not)."""
    counts = {row["predicted_sentiment"]: int(row["count"])
              for row in gold.groupBy("predicted_sentiment").count().collect()}
    total = sum(counts.values())
    return {label: (counts.get(label, 0) / total if total else 0.0) for label in LABELS}


def classification_metrics(cells: Cells) -> dict:
    """Accuracy, per-class and macro precision/recall/F1 and the confusion matrix (rows given, columns predicted)."""
    rows = sum(count for _, _, count in cells)
    if not rows:
        raise ValueError("no gold rows with both a given and a predicted sentiment: nothing to evaluate")
    given = [g for g, _, _ in cells]
    predicted = [p for _, p, _ in cells]
    weights = [count for _, _, count in cells]
    precision, recall, f1, support = precision_recall_fscore_support(
        given, predicted, labels=list(LABELS), sample_weight=weights, zero_division=0)
    macro = precision_recall_fscore_support(given, predicted, labels=list(LABELS), sample_weight=weights,
                                            average="macro", zero_division=0)
    matrix = confusion_matrix(given, predicted, labels=list(LABELS), sample_weight=weights).astype(int)
    return {
        "rows": rows,
        "accuracy": float(accuracy_score(given, predicted, sample_weight=weights)),
        "macro_precision": float(macro[0]), "macro_recall": float(macro[1]), "macro_f1": float(macro[2]),
        "precision": {label: float(v) for label, v in zip(LABELS, precision)},
        "recall": {label: float(v) for label, v in zip(LABELS, recall)},
        "f1": {label: float(v) for label, v in zip(LABELS, f1)},
        "support": {label: int(v) for label, v in zip(LABELS, support)},
        "confusion_matrix": matrix.tolist(),
    }


def flat_metrics(metrics: dict) -> dict[str, float]:
    """The scalar metrics with per-class values as `<metric>_<label>` (for MLflow and Dagster metadata)."""
    flat = {key: float(metrics[key]) for key in ("accuracy", "macro_precision", "macro_recall", "macro_f1")}
    for name in ("precision", "recall", "f1"):
        flat |= {f"{name}_{label.lower()}": float(value) for label, value in metrics[name].items()}
    return flat


def agreement_drift(current: float, history: Sequence[float], min_history: int = 3,
                    max_drop: float = 0.10) -> tuple[bool, float | None, float | None]:
    """(passed, norm, threshold): fails when `current` is below mean(history) - max(max_drop, 3 std).

    With fewer than `min_history` earlier batches there is no norm yet and the check passes.
    """
    if len(history) < min_history:
        return True, None, None
    norm = mean(history)
    threshold = norm - max(max_drop, 3 * pstdev(history))
    return current >= threshold, norm, threshold
