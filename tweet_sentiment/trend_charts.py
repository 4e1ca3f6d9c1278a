"""Pictures beside charts.py: line charts over time and the confusion matrix, as PNG bytes or a figure for MLflow."""

import io
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

COMPACT_DPI = 72  # charts shown inline in a Dagster metadata table, whose value column is a few hundred pixels wide


def _png(figure: Figure, dpi: int = 90) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")  # keeps an outside legend
    plt.close(figure)
    return buffer.getvalue()


def line_chart_png(title: str, x: Sequence[str], series: Mapping[str, Sequence[float | None]],
                   ylabel: str = "", compact: bool = False) -> bytes:
    """One line per series over the shared x labels (dates or batches), as PNG bytes; `compact` draws it about 450
    pixels wide, to be seen without a click in a Dagster metadata table."""
    figure = line_chart_figure(title, x, series, ylabel, size=(6.0, 2.8) if compact else (9.0, 3.5))
    return _png(figure, COMPACT_DPI if compact else 90)


def line_chart_figure(title: str, x: Sequence[str], series: Mapping[str, Sequence[float | None]],
                      ylabel: str = "", size: tuple[float, float] = (9.0, 3.5)) -> Figure:
    """The line chart as a figure, its legend right of the plot; close it after use."""
    figure, axes = plt.subplots(figsize=size)
    for name, values in series.items():
        axes.plot(list(x), [float("nan") if v is None else v for v in values], marker="o", label=name)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes.grid(axis="y", alpha=0.3)
    if series:
        # Outside the axes, right of the plot: a legend inside ("best") still lands on lines that span the chart.
        axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False)
    figure.tight_layout()
    return figure


def confusion_matrix_figure(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> Figure:
    """The confusion matrix (rows given, columns predicted) as a matplotlib figure; close it after use."""
    figure, axes = plt.subplots(figsize=(3.6, 3.2))  # small enough to sit in a Dagster metadata table
    ConfusionMatrixDisplay(confusion_matrix=np.array(matrix), display_labels=list(labels)).plot(
        ax=axes, colorbar=False, values_format="d")
    axes.set_title(title)
    axes.set_xlabel("predicted sentiment")
    axes.set_ylabel("given sentiment")
    figure.tight_layout()
    return figure


def figure_png(figure: Figure, compact: bool = False) -> bytes:
    """PNG bytes of a figure, closing it; `compact` at a lower resolution (see line_chart_png)."""
    return _png(figure, COMPACT_DPI if compact else 90)
