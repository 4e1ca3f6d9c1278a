"""Clients of the engine: every part of the platform (Dagster runs, the CLI, the bench, the tests) talks to Spark
through Spark Connect, to the home's engine or to the server `TWEET_SENTIMENT_SPARK_REMOTE` names."""

import os
from collections.abc import Callable

from pyspark.sql import SparkSession

from tweet_sentiment.engine.server import start_engine
from tweet_sentiment.engine.sessions import connect
from tweet_sentiment.settings import HomeLayout

REMOTE_ENV_VAR = "TWEET_SENTIMENT_SPARK_REMOTE"


def engine_url(layout: HomeLayout, on_wait: Callable[[str], None] | None = None) -> str:
    """`$TWEET_SENTIMENT_SPARK_REMOTE` (an existing Connect server), else the home's engine, started if need be."""
    remote = os.environ.get(REMOTE_ENV_VAR)
    if remote:
        return remote
    return start_engine(layout, on_wait=on_wait).url


def engine_session(layout: HomeLayout, on_wait: Callable[[str], None] | None = None) -> SparkSession:
    """A session on `$TWEET_SENTIMENT_SPARK_REMOTE`, else on the home's engine (started if need be), whose retries
    end when that engine's process does (`sessions.EngineRetryPolicy`)."""
    remote = os.environ.get(REMOTE_ENV_VAR)
    if remote:
        return connect(remote)
    engine = start_engine(layout, on_wait=on_wait)
    return connect(engine.url, engine=engine)
