"""Evaluation of given vs predicted sentiment: Spark reduces gold to a 3x3 confusion matrix, scikit-learn scores it.

Only the nine (given, predicted) counts leave Spark, so the cost does not grow with the table; scikit-learn gets
them as weighted samples, which gives exactly the metrics of the full rows.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean, pstdev

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.transforms.gold import sentiment_label

Cells = list[tuple[str, str, int]]


@dataclass(frozen=True)
class GoldSummary:
    """Gold rows counted per (given label, predicted label, model version), with their time span: what the
    evaluation needs, from one small query."""

    groups: list[tuple[str | None, str | None, str | None, int]]
    min_timestamp: datetime | None
    max_timestamp: datetime | None

    @property
    def rows(self) -> int:
        return sum(count for *_, count in self.groups)

    @property
    def cells(self) -> Cells:
        """(given, predicted, rows) for the labelled rows; rows without a given sentiment are left out."""
        counts: Counter[tuple[str, str]] = Counter()
        for given, predicted, _, count in self.groups:
            if given is not None and predicted is not None:
                counts[(given, predicted)] += count
        return sorted((given, predicted, count) for (given, predicted), count in counts.items())

    @property
    def shares(self) -> dict[str, float]:
        """Share of each predicted label over all rows (labelled or not)."""
        counts: Counter[str | None] = Counter()
        for _, predicted, _, count in self.groups:
            counts[predicted] += count
        total = sum(counts.values())
        return {label: (counts.get(label, 0) / total if total else 0.0) for label in LABELS}

    @property
    def model_versions(self) -> list[str]:
        return sorted({version for _, _, version, _ in self.groups if version is not None})


def summarize_gold(gold: DataFrame) -> GoldSummary:
    """Reduce gold to at most 4 x 4 x versions counts and its time span, in one query whatever its size."""
    rows = (gold.groupBy(sentiment_label(F.col("sentiment")).alias("given"), "predicted_sentiment", "model_version")
            .agg(F.count(F.lit(1)).alias("rows"), F.min("timestamp").alias("lo"), F.max("timestamp").alias("hi"))
            .collect())
    lows, highs = [r["lo"] for r in rows if r["lo"] is not None], [r["hi"] for r in rows if r["hi"] is not None]
    groups = [(r["given"], r["predicted_sentiment"], r["model_version"], int(r["rows"])) for r in rows]
    return GoldSummary(groups=groups, min_timestamp=min(lows, default=None), max_timestamp=max(highs, default=None))


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
        "precision": {label: float(v) for label, v in zip(LABELS, precision, strict=True)},
        "recall": {label: float(v) for label, v in zip(LABELS, recall, strict=True)},
        "f1": {label: float(v) for label, v in zip(LABELS, f1, strict=True)},
        "support": {label: int(v) for label, v in zip(LABELS, support, strict=True)},
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
