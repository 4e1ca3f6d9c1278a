"""Clients of the engine: every part of the platform (Dagster runs, the CLI, the bench, the tests) talks to Spark
through Spark Connect, to the home's engine or to the server `TWEET_SENTIMENT_SPARK_REMOTE` names."""

import os
from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession

from tweet_sentiment.engine.server import start_engine
from tweet_sentiment.settings import HomeLayout

REMOTE_ENV_VAR = "TWEET_SENTIMENT_SPARK_REMOTE"


def engine_url(layout: HomeLayout, on_wait: Callable[[str], None] | None = None) -> str:
    """`$TWEET_SENTIMENT_SPARK_REMOTE` (an existing Connect server), else the home's engine, started if need be."""
    remote = os.environ.get(REMOTE_ENV_VAR)
    if remote:
        return remote
    return start_engine(layout, on_wait=on_wait).url


_SESSIONS: dict[str, SparkSession] = {}


def connect(url: str) -> SparkSession:
    """A Connect session on exactly `url` (one per URL in this process). One that joins a shared session
    (`;session_id=`) never releases it on stop, since other clients (runs, the daemon, the CLI) use it too."""
    session = _SESSIONS.get(url)
    if session is None or session.is_stopped:
        # create(), not getOrCreate(): the latter returns whatever session this process opened first.
        session = SparkSession.builder.remote(url).create()
        if "session_id=" in url:
            session.release_session_on_close = False
        _SESSIONS[url] = session
    return session


def disconnect(url: str) -> None:
    """Close this process's client of `url` without releasing the server's session. Called before its engine stops:
    otherwise the client's cached relations (checkpoints) try to release themselves on a dead server at exit, each
    retrying for minutes, and the process hangs instead of exiting."""
    session = _SESSIONS.pop(url, None)
    if session is not None and not session.is_stopped:
        session.release_session_on_close = False
        session.stop()


def disconnect_all(url: str) -> None:
    """Close every client of this process on the server of `url`, whatever its session (tests and the bench open
    sessions of their own on an engine): each would otherwise hang at exit as `disconnect` says."""
    server = _server(url)
    for cached in [other for other in _SESSIONS if _server(other) == server]:
        disconnect(cached)


def _server(url: str) -> str:
    return url.split(";")[0].rstrip("/")


def local_checkpoint(frame: DataFrame) -> DataFrame:
    """`frame.localCheckpoint()`, bound to `frame`'s own session. pyspark's Connect client attaches a checkpoint to
    the session that is *active* in the thread (`pyspark.sql.connect.conversion`), which is another one when a
    process talks to two engines (the cluster test compares two); so `frame`'s is made active for the call."""
    active = getattr(type(frame.sparkSession), "_active_session", None)
    if active is None:  # not a Connect session
        return frame.localCheckpoint()
    previous = getattr(active, "session", None)
    active.session = frame.sparkSession
    try:
        return frame.localCheckpoint()
    finally:
        active.session = previous
