"""Pictures beside charts.py: line charts over time and the confusion matrix, as PNG bytes or a figure for MLflow."""

import io
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def line_chart_png(title: str, x: Sequence[str], series: Mapping[str, Sequence[float | None]],
                   ylabel: str = "") -> bytes:
    """One line per series over the shared x labels (dates or batches), as PNG bytes."""
    figure, axes = plt.subplots(figsize=(8, 3.5))
    for name, values in series.items():
        axes.plot(list(x), [float("nan") if v is None else v for v in values], marker="o", label=name)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    if series:
        axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    return _png(figure)


def confusion_matrix_figure(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> Figure:
    """The confusion matrix (rows given, columns predicted) as a matplotlib figure; close it after use."""
    figure, axes = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay(confusion_matrix=np.array(matrix), display_labels=list(labels)).plot(
        ax=axes, colorbar=False, values_format="d")
    axes.set_title(title)
    axes.set_xlabel("predicted sentiment")
    axes.set_ylabel("given sentiment")
    figure.tight_layout()
    return figure


def figure_png(figure: Figure) -> bytes:
    """PNG bytes of a figure, closing it."""
    return _png(figure)
