"""Keep the engine's Python workers, and the model they loaded, alive through quiet spells.

Spark ends a Python worker that has been idle for one minute (a constant in Spark, not a setting), and gold's model
goes with it. `python -m tweet_sentiment.engine.keep_warm URL` runs beside the engine (in its process group, see
`supervise`) and, every `PING_EVERY_S`, runs a no-op Python function in one task per task slot of the engine's shared
session: the idle workers are reused, so they never reach the minute.
"""

import sys
import time
from collections.abc import Iterator

import pandas as pd
from pyspark.sql import SparkSession

PING_EVERY_S = 40.0
"""Well inside Spark's one-minute idle limit, with room for a slow ping on a busy machine."""
PING_ROWS = 1 << 12


def _unchanged(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    yield from batches


def ping(spark: SparkSession) -> int:
    """A few rows through a no-op Python function, split over the engine's default parallelism (one task per task
    slot, started together, so each takes an idle worker); returns the rows seen."""
    return spark.range(PING_ROWS).mapInPandas(_unchanged, schema="id long").count()


def keep_warm(url: str, every_s: float = PING_EVERY_S) -> None:
    """Ping the engine at `url` forever; the supervisor ends this process with the engine's process group."""
    from tweet_sentiment.engine.sessions import connect

    while True:
        time.sleep(every_s)
        try:
            ping(connect(url))
        except Exception:
            continue


if __name__ == "__main__":
    keep_warm(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else PING_EVERY_S)
