"""Repeated timings: min and median of several runs, measured in one process so ratios compare like with like."""

import statistics
import time
from collections.abc import Callable
from typing import Any


def _summary(seconds: list[float]) -> dict[str, Any]:
    return {"min_s": min(seconds), "median_s": statistics.median(seconds), "runs_s": seconds}


def timed(function: Callable[[], Any], repeats: int) -> tuple[dict[str, float], Any]:
    """Run `function` `repeats` times; return min/median/all seconds and the last result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return _summary(seconds), result


def timed_each(function: Callable[[Any], Any], items: list[Any]) -> dict[str, Any]:
    """Run `function` once per item (the same work on other data each time); min/median/all seconds."""
    seconds = []
    for item in items:
        start = time.perf_counter()
        function(item)
        seconds.append(time.perf_counter() - start)
    return _summary(seconds)


def ratio(numerator: dict[str, float], denominator: dict[str, float]) -> float:
    """Median over median: how many times slower (>1) or faster (<1) the numerator is."""
    return numerator["median_s"] / denominator["median_s"]
