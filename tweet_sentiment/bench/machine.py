"""What the benchmark ran on, stored with every result so runs from different machines are not compared blindly."""

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import psutil

PACKAGES = ("dagster", "pyspark", "delta-spark", "mlflow", "transformers", "torch", "pandas", "polars")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def describe_machine() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python, library versions and the load average when asked."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in PACKAGES},
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
