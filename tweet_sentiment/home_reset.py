"""Clearing a home's previous runs (the seed's "clear the previous run"): the lakehouse, the manifest, the sensor
cursors, the batch partitions, the runs and asset history in the Dagster instance, and optionally the MLflow store.
The source folder is never touched, so the next `run` (or the sensor) ingests every file again, as on a new home."""

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorType

from tweet_sentiment.lakehouse.maintenance import lakehouse_tables
from tweet_sentiment.locks import file_lock, lock_path
from tweet_sentiment.settings import HomeLayout

BATCH_PARTITIONS = "batches"
CLI_CURSOR = "cli_sensor_cursor.json"
MAIN_JOB_LOCK = "main-job.lock"
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


class ResetRefusedError(RuntimeError):
    """A reset that would pull data from under a run in progress, or touch the source folder."""


@dataclass
class ResetPlan:
    """What a reset deletes (and keeps), listed before anything is deleted."""

    home: Path
    tables: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    asset_keys: list[dg.AssetKey] = field(default_factory=list)
    sensor_cursors: list[str] = field(default_factory=list)
    mlflow: Path | None = None
    kept: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The plan in words, one thing a line."""
        lines = [f"lakehouse: {len(self.tables)} Delta tables ({', '.join(self.tables) or 'none'})"]
        lines += [f"file: {path}" for path in self.files]
        sensors = ", ".join(self.sensor_cursors) or "none"
        lines.append(f"Dagster: {len(self.runs)} runs, {len(self.partitions)} batch partitions, the history of "
                     f"{len(self.asset_keys)} assets, the cursors of {len(self.sensor_cursors)} sensors ({sensors})")
        lines += [f"MLflow store: {self.mlflow} (registered models, evaluation runs)"] if self.mlflow else []
        return lines

    @property
    def empty(self) -> bool:
        return not (self.tables or self.files or self.runs or self.partitions or self.asset_keys
                    or self.sensor_cursors or self.mlflow)


def _sensor_states(instance: dg.DagsterInstance) -> list:
    return [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
            if s.instigator_data is not None and getattr(s.instigator_data, "cursor", None)]


def plan_reset(layout: HomeLayout, instance: dg.DagsterInstance, keep_models: bool = True,
               source: Path | None = None, own_run_id: str | None = None) -> ResetPlan:
    """What `execute_reset` would delete; refuses a home whose source folder lies inside what would be deleted."""
    source_dir = layout.source_dir(source)
    for doomed in (layout.lakehouse, layout.mlflow if not keep_models else None):
        if doomed is not None and source_dir.is_relative_to(doomed):
            raise ResetRefusedError(f"the source folder {source_dir} is inside {doomed}, which a reset deletes")
    state_files = [layout.manifest, *(layout.root / f"{layout.manifest.name}{s}" for s in ("-wal", "-shm",
                                                                                           "-journal")),
                   layout.state / CLI_CURSOR]
    runs = [r.dagster_run.run_id for r in instance.get_run_records() if r.dagster_run.run_id != own_run_id]
    return ResetPlan(
        home=layout.root, tables=lakehouse_tables(layout), files=[p for p in state_files if p.exists()], runs=runs,
        partitions=list(instance.get_dynamic_partitions(BATCH_PARTITIONS)), asset_keys=list(instance.all_asset_keys()),
        sensor_cursors=[s.name for s in _sensor_states(instance)],
        mlflow=layout.mlflow if not keep_models and layout.mlflow.exists() else None,
        kept=[f"source folder {source_dir}"] + ([f"MLflow store {layout.mlflow}"] if keep_models else []))


def _refuse_runs_in_progress(instance: dg.DagsterInstance, own_run_id: str | None) -> None:
    running = [r.dagster_run.run_id for r in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS))
               if r.dagster_run.run_id != own_run_id]
    if running:
        raise ResetRefusedError(f"{len(running)} runs are queued or in progress ({', '.join(running[:3])}): wait for "
                                "them or cancel them (and stop the sensors so that none starts), then reset")


def execute_reset(layout: HomeLayout, instance: dg.DagsterInstance, plan: ResetPlan,
                  own_run_id: str | None = None) -> None:
    """Delete what `plan` lists. Holds the main job's lock (no `tweet-sentiment run` meanwhile) and each table's
    lock while its folder goes; refuses while another run is queued or in progress."""
    with file_lock(layout.locks / MAIN_JOB_LOCK, what="tweet-sentiment reset", wait=False):
        _refuse_runs_in_progress(instance, own_run_id)
        for table in plan.tables:
            with file_lock(lock_path(layout.locks, "table", table), what="tweet-sentiment reset"):
                shutil.rmtree(layout.table(table), ignore_errors=False)
        for path in plan.files:
            path.unlink(missing_ok=True)
        for run_id in plan.runs:
            instance.delete_run(run_id)
        if plan.asset_keys:
            instance.wipe_assets(plan.asset_keys)
        for key in plan.partitions:
            instance.delete_dynamic_partition(BATCH_PARTITIONS, key)
        for state in _sensor_states(instance):
            if state.name in plan.sensor_cursors:
                # Dagster has no public call for this: the sensor's stored data with the cursor cleared, its
                # running/stopped status kept.
                instance.update_instigator_state(state.with_data(state.instigator_data._replace(cursor=None)))
        if plan.mlflow is not None:
            shutil.rmtree(plan.mlflow)
