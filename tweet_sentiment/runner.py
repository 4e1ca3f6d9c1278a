"""The main job outside the daemon: look at the source folder exactly as the sensor does, then run each batch."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from tweet_sentiment.defs.sensors import BATCH_TAG
from tweet_sentiment.discovery import parse_cursor
from tweet_sentiment.settings import HomeLayout

SENSOR_NAME = "source_files_sensor"
JOB_NAME = "batch_pipeline"
QUIET_LOGGING = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class LookResult:
    """What the sensor found over one or more looks."""

    new_batches: list[str] = field(default_factory=list)
    still_settling: int = 0
    skipped: list[str] = field(default_factory=list)


@dataclass
class BatchOutcome:
    """The result of running the pipeline for one batch."""

    batch: str
    success: bool
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def _cursor_file(layout: HomeLayout) -> Path:
    return layout.root / "state" / "cli_sensor_cursor.json"


def look_for_batches(defs: dg.Definitions, instance: dg.DagsterInstance, layout: HomeLayout,
                     settle_seconds: float = 1.0, max_looks: int = 5) -> LookResult:
    """Evaluate the sensor until no file is still settling (or `max_looks`), adding the partitions it asks for."""
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    cursor_file = _cursor_file(layout)
    cursor = cursor_file.read_text() if cursor_file.exists() else None
    found = LookResult()
    for look in range(max_looks):
        with dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources,
                                     definitions=defs) as context:
            result = sensor(context)
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        found.new_batches += [r.partition_key for r in result.run_requests or []]
        cursor = result.cursor
        found.still_settling = len(parse_cursor(cursor))
        if not found.still_settling or look == max_looks - 1:
            break
        time.sleep(settle_seconds)
    cursor_file.parent.mkdir(parents=True, exist_ok=True)
    cursor_file.write_text(cursor or json.dumps({"pending": {}}))
    return found


def unmaterialized_batches(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[str]:
    """Batches that exist as partitions but lack a materialization of some asset of the batch pipeline."""
    job = defs.resolve_job_def(JOB_NAME)
    keys = instance.get_dynamic_partitions("batches")
    missing: set[str] = set()
    for asset_key in job.asset_layer.executable_asset_keys:
        done = instance.get_materialized_partitions(asset_key)
        missing |= {key for key in keys if key not in done}
    return [key for key in keys if key in missing]


def run_batch(defs: dg.Definitions, instance: dg.DagsterInstance, batch: str) -> BatchOutcome:
    """Materialize every layer of one batch in this process; failures are reported, not raised."""
    job = defs.resolve_job_def(JOB_NAME)
    result = job.execute_in_process(instance=instance, partition_key=batch, run_config=QUIET_LOGGING,
                                    tags={BATCH_TAG: batch, "tweet_sentiment/launched_by": "cli"},
                                    raise_on_error=False)
    rows = {}
    for event in result.get_asset_materialization_events():
        count = event.materialization.metadata.get("dagster/row_count")
        if count is not None:
            rows[event.asset_key.to_user_string()] = int(count.value)
    error = None
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        error = failures[0].event_specific_data.error.message.strip() if failures else "run failed"
    return BatchOutcome(batch, result.success, rows, error)


def run_pending(defs: dg.Definitions, instance: dg.DagsterInstance, batches: list[str],
                on_batch: Callable[[BatchOutcome], None] | None = None) -> list[BatchOutcome]:
    """Run the pipeline for each batch in order."""
    outcomes = []
    for batch in batches:
        outcome = run_batch(defs, instance, batch)
        outcomes.append(outcome)
        if on_batch is not None:
            on_batch(outcome)
    return outcomes
