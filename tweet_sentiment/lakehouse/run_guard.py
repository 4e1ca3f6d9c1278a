"""The guard every run that touches the lakehouse holds (the Delta IO manager depends on it)."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from tweet_sentiment.locks import file_lock, lock_path
from tweet_sentiment.runs import claim_run
from tweet_sentiment.settings import HomeLayout

PARTITION_TAG = "dagster/partition"


class RunGuard(dg.ConfigurableResource):
    """Set up once per run: tags the run with its process (so a run whose process dies is marked failed) and, for a
    batch run, holds the batch's lock for the whole run, so two runs of one batch (the daemon's and the CLI's) never
    overlap: the later one waits, then re-runs the batch, which replaces its partitions with the same rows."""

    home: str | None = None

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["RunGuard"]:
        run = context.dagster_run
        if run is None or context.instance is None:
            yield self
            return
        claim_run(context.instance, run)
        batch = run.tags.get(PARTITION_TAG)
        if batch is None:
            yield self
            return
        path = lock_path(HomeLayout.resolve(self.home).locks, "batch", batch)
        with file_lock(path, what=f"Dagster run {run.run_id} of batch {batch}", on_wait=context.log.info):
            yield self
