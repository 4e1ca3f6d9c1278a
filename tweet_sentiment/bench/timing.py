"""Repeated timings: min and median of several runs, measured in one process so ratios compare like with like."""

import statistics
import time
from collections.abc import Callable
from typing import Any


def timed(function: Callable[[], Any], repeats: int) -> tuple[dict[str, float], Any]:
    """Run `function` `repeats` times; return min/median/all seconds and the last result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return {"min_s": min(seconds), "median_s": statistics.median(seconds), "runs_s": seconds}, result


def ratio(numerator: dict[str, float], denominator: dict[str, float]) -> float:
    """Median over median: how many times slower (>1) or faster (<1) the numerator is."""
    return numerator["median_s"] / denominator["median_s"]
