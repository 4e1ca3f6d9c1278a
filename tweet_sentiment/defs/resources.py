"""Resources shared by the graph: the home folder, Spark with Delta Lake, and the Delta IO manager."""

import os
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from tweet_sentiment.engine.client import engine_session
from tweet_sentiment.engine.sessions import connect
from tweet_sentiment.lakehouse.delta_io_manager import DeltaSparkIOManager
from tweet_sentiment.landing.manifest import Manifest
from tweet_sentiment.settings import ALLOW_OUTSIDE_LINKS_ENV_VAR, ALLOW_OVERWRITES_ENV_VAR, HomeLayout


class TweetSentimentHome(dg.ConfigurableResource):
    """The home folder and the watched source folder; empty means $TWEET_SENTIMENT_HOME / ~/.tweet_sentiment."""

    home: str | None = None
    source: str | None = None
    max_files_per_batch: int = 100
    max_bytes_per_batch: int = 256 * 1024 * 1024
    allow_overwrites: bool = False
    """A file that changes after it was ingested is re-ingested, its new version replacing its earlier rows (as
    Auto Loader's cloudFiles.allowOverwrites). Off: the change is reported and not ingested."""
    allow_outside_links: bool = False
    """Follow symlinks in the source folder that lead outside it. Off: they are skipped and reported, since a
    landing folder is often writable by others (an SFTP drop, a shared mount)."""

    @property
    def layout(self) -> HomeLayout:
        return HomeLayout.resolve(self.home)

    @property
    def source_dir(self) -> Path:
        return self.layout.source_dir(self.source)

    def manifest(self) -> Manifest:
        return Manifest(self.layout.manifest)


class DeltaSparkResource(LazyPySparkResource):
    """The platform's Spark, always over Spark Connect: the home's engine (started when it is not running; see
    `tweet-sentiment engine`), or the server `remote` / $TWEET_SENTIMENT_SPARK_REMOTE names (a cluster's endpoint).
    Every run of a home joins the engine's one session, so runs share its warm Python workers."""

    spark_config: dict[str, Any] = {}  # noqa: RUF012 (a pydantic field: each resource gets its own copy)
    home: str | None = None
    remote: str | None = None

    def _init_session(self) -> None:
        if self._spark_session is None:
            if self.remote:
                self._spark_session = connect(self.remote)
            else:
                self._spark_session = engine_session(HomeLayout.resolve(self.home))
            for key, value in self.spark_config.items():  # runtime settings of the shared session
                self._spark_session.conf.set(key, str(value))


def _flag_from_env(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes", "on")


def allow_overwrites_from_env() -> bool:
    return _flag_from_env(ALLOW_OVERWRITES_ENV_VAR)


def allow_outside_links_from_env() -> bool:
    return _flag_from_env(ALLOW_OUTSIDE_LINKS_ENV_VAR)


def build_resources(home: str | None = None, source: str | None = None) -> dict[str, Any]:
    """The resources of the code location; tests pass a temporary home."""
    spark = DeltaSparkResource(home=home)
    return {
        "tweet_home": TweetSentimentHome(home=home, source=source, allow_overwrites=allow_overwrites_from_env(),
                                         allow_outside_links=allow_outside_links_from_env()),
        "pyspark": spark,
        "delta_io_manager": DeltaSparkIOManager.for_home(spark, home),
    }


@dg.definitions
def resources() -> dg.Definitions:
    # Every run in one process: its steps share one Spark session, and RunGuard sees the run's own process.
    return dg.Definitions(resources=build_resources(), executor=dg.in_process_executor)
