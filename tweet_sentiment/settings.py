"""Where tweet_sentiment keeps its state: one home folder holds the lakehouse, manifest, MLflow and Dagster."""

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV_VAR = "TWEET_SENTIMENT_HOME"
SOURCE_ENV_VAR = "TWEET_SENTIMENT_SOURCE"
ALLOW_OVERWRITES_ENV_VAR = "TWEET_SENTIMENT_ALLOW_OVERWRITES"
ALLOW_OUTSIDE_LINKS_ENV_VAR = "TWEET_SENTIMENT_ALLOW_OUTSIDE_LINKS"
DEFAULT_HOME = Path("~/.tweet_sentiment")


def resolve_home(home: str | os.PathLike | None = None) -> Path:
    """The home folder: the argument, else $TWEET_SENTIMENT_HOME, else ~/.tweet_sentiment."""
    chosen = home or os.environ.get(HOME_ENV_VAR) or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class HomeLayout:
    """Paths under one home folder."""

    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> "HomeLayout":
        return cls(resolve_home(home))

    @property
    def lakehouse(self) -> Path:
        return self.root / "lakehouse"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.sqlite"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def mlflow(self) -> Path:
        return self.root / "mlflow"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def locks(self) -> Path:
        return self.state / "locks"

    @property
    def spark_local(self) -> Path:
        return self.root / "spark"

    @property
    def default_source(self) -> Path:
        return self.root / "source"

    def table(self, name: str) -> Path:
        return self.lakehouse / name

    def source_dir(self, source: str | os.PathLike | None = None) -> Path:
        """The watched source folder: the argument, else $TWEET_SENTIMENT_SOURCE, else <home>/source."""
        chosen = source or os.environ.get(SOURCE_ENV_VAR)
        return Path(chosen).expanduser().resolve() if chosen else self.default_source
