"""Charts: text bars for tables, and the trend chart's legend beside (not over) the lines."""

import io

import matplotlib.pyplot as plt
from PIL import Image

from tweet_sentiment.charts import text_bar
from tweet_sentiment.trend_charts import line_chart_figure, line_chart_png

BATCHES = [f"b2026112{i}T00000" for i in range(6)]
SERIES = {"agreement": [0.9, 0.95, 0.97, 0.96, 0.97, 0.98], "macro_f1": [0.8, 0.9, 0.93, 0.9, 0.95, 0.96],
          "share_pos": [0.3, 0.35, 0.33, None, 0.36, 0.34]}


def test_text_bar_scales_to_the_largest_value() -> None:
    assert text_bar(10, 10) == "\u2588" * 12
    assert text_bar(5, 10) == "\u2588" * 6
    assert text_bar(1, 1000) == "\u2588"  # a positive value always gets a block
    assert text_bar(0, 10) == "" and text_bar(3, 0) == ""


def test_trend_chart_legend_is_outside_the_plot_area() -> None:
    figure = line_chart_figure("Agreement per batch", BATCHES, SERIES)
    try:
        figure.canvas.draw()
        (axes,) = figure.axes
        legend = axes.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["agreement", "macro_f1", "share_pos"]
        assert legend.get_window_extent().x0 >= axes.get_window_extent().x1
    finally:
        plt.close(figure)


def test_trend_chart_png_keeps_the_legend_inside_the_image() -> None:
    png = line_chart_png("Agreement per batch", BATCHES, SERIES)
    image = Image.open(io.BytesIO(png))
    # 9 x 3.5 inches at 90 dpi is 810 x 315; the tight bounding box widens the picture for the legend, not crops it.
    assert image.format == "PNG" and image.size[0] >= 700 and 250 <= image.size[1] <= 400
