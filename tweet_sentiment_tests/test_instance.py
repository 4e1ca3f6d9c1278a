"""A new home opened by several processes at once: the Dagster storage and the MLflow store are created once."""

import multiprocessing
from pathlib import Path

import pytest


def _open_home(args: tuple) -> str:
    home, barrier = args
    from mlflow import MlflowClient

    from tweet_sentiment.instance import open_instance
    from tweet_sentiment.model.registry import configure, tracking_uri_for
    from tweet_sentiment.settings import HomeLayout

    barrier.wait()
    layout = HomeLayout.resolve(home)
    instance = open_instance(layout)
    instance.add_dynamic_partitions("batches", ["b1"])
    configure(None, home)
    experiments = MlflowClient(tracking_uri_for(None, home)).search_experiments()
    return ",".join(sorted(e.artifact_location.removeprefix("file://") for e in experiments))


@pytest.mark.slow
def test_processes_opening_a_new_home_together_create_its_stores_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    # Three processes, each opening three new homes at the barrier's signal (one process per task: each blocks at
    # the barrier until all three arrive). The libraries are imported once; the race is for each new home's stores.
    with context.Manager() as sync, context.Pool(3) as pool:
        for attempt in range(3):
            home = tmp_path / f"home-{attempt}"
            locations = pool.map(_open_home, [(home, sync.Barrier(3))] * 3, chunksize=1)
            assert len(set(locations)) == 1
            # Nothing points into the working directory: MLflow's Default experiment too lives under the home.
            assert all(location.startswith(str(home.resolve() / "mlflow" / "artifacts"))
                       for location in locations[0].split(","))
        pool.close()
        pool.join()  # the workers exit on their own; the with-block's terminate() would rely on SIGTERM
