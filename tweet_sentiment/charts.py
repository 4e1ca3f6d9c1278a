"""Pictures for people: bar charts as PNG, embeddable in Dagster markdown metadata or saved for MLflow."""

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def bar_chart_png(title: str, items: list[tuple[str, int]], xlabel: str = "count") -> bytes:
    """A horizontal bar chart of (label, value) pairs, largest on top, as PNG bytes."""
    labels = [label for label, _ in items][::-1]
    values = [value for _, value in items][::-1]
    figure, axes = plt.subplots(figsize=(7, max(2.0, 0.3 * len(items) + 1)))
    axes.barh(labels, values, color="#4c72b0")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def text_bar(value: float, largest: float, width: int = 12) -> str:
    """A bar of block characters, `width` long for the largest value (at least one block for any positive value)."""
    if value <= 0 or largest <= 0:
        return ""
    return "\u2588" * max(1, round(width * value / largest))


def png_markdown(png: bytes, alt: str) -> str:
    """Markdown that shows a PNG inline (the Dagster UI renders data URIs)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"
