"""A home as the commands open it: its Dagster instance and the code location's definitions."""

from pathlib import Path

import dagster as dg

from tweet_sentiment.settings import HomeLayout


def load(layout: HomeLayout, source: Path | None) -> tuple[dg.DagsterInstance, dg.Definitions]:
    """This home's Dagster instance and the code location's definitions."""
    from tweet_sentiment.instance import open_instance

    instance = open_instance(layout, source)
    from tweet_sentiment.definitions import defs

    return instance, defs()
