"""Spark Connect sessions of this process, one per engine URL: opened, closed before their engine stops, and a
checkpoint bound to its own session.

A session on the home's own engine fails fast when that engine dies: Spark Connect's client retries an unreachable
server for about ten minutes (and a run that was in gold printed nothing for half an hour), so its retries stop as
soon as the engine's process is gone, with an error that says so and where the engine's log is.
"""

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.connect.client.retries import DefaultPolicy

from tweet_sentiment.engine.state import EngineState, EngineStoppedError, is_running

_SESSIONS: dict[str, SparkSession] = {}


class EngineRetryPolicy(DefaultPolicy):
    """Spark Connect's default retries while the engine's process lives; none once it is gone (then
    `EngineStoppedError` replaces the connection error). Backoffs are capped at 10 s, so a death during a wait is
    noticed within seconds; the retries still cover the default's ten minutes for an engine that lives."""

    def __init__(self, engine: EngineState) -> None:
        super().__init__(max_retries=65, max_backoff=10_000)
        self.engine = engine

    def can_retry(self, e: BaseException) -> bool:
        if not super().can_retry(e):
            return False
        if not is_running(self.engine):
            raise EngineStoppedError(engine_stopped_message(self.engine)) from e
        return True


def engine_stopped_message(engine: EngineState) -> str:
    """One line: the engine stopped, where its log is, and what the next run does."""
    return (f"the Spark engine (pid {engine.pid}, port {engine.port}) stopped while this run was using it; its log: "
            f"{engine.log}. The next `tweet-sentiment run` starts a new engine and redoes what this run left "
            "unfinished")


def connect(url: str, engine: EngineState | None = None) -> SparkSession:
    """A Connect session on exactly `url` (one per URL in this process); with `engine` (the home's engine at `url`),
    its retries end when that engine's process does. One that joins a shared session (`;session_id=`) never
    releases it on stop, since other clients (runs, the daemon, the CLI) use it too."""
    session = _SESSIONS.get(url)
    if session is None or session.is_stopped:
        # create(), not getOrCreate(): the latter returns whatever session this process opened first.
        session = SparkSession.builder.remote(url).create()
        if "session_id=" in url:
            session.release_session_on_close = False
        if engine is not None:
            session.client.set_retry_policies([EngineRetryPolicy(engine)])
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
