"""Batches outside the daemon: look at the source folder exactly as the sensor does, then run each batch in-process."""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from tweet_sentiment.commands.cli_runs import execute_from_cli
from tweet_sentiment.defs.sensors import BATCH_TAG, RUN_KEY_TAG
from tweet_sentiment.landing.discovery import outside_links_in, parse_cursor
from tweet_sentiment.landing.manifest import Batch, Duplicate, Manifest, Modified
from tweet_sentiment.locks import describe_holder, is_locked, lock_path
from tweet_sentiment.settings import HomeLayout

SENSOR_NAME = "source_files_sensor"
JOB_NAME = "batch_pipeline"
QUIET_LOGGING = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class LookResult:
    """What the sensor found over one or more looks."""

    new_batches: list[str] = field(default_factory=list)
    still_settling: int = 0
    empty_files: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    modified: list[Modified] = field(default_factory=list)
    outside_links: list[str] = field(default_factory=list)


@dataclass
class BatchOutcome:
    """The result of running the pipeline for one batch (or of leaving it to the process that holds it)."""

    batch: str
    success: bool
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    held_by: str | None = None


def _cursor_file(layout: HomeLayout) -> Path:
    return layout.state / "cli_sensor_cursor.json"


def look_for_batches(defs: dg.Definitions, instance: dg.DagsterInstance, layout: HomeLayout,
                     settle_seconds: float = 1.0, max_looks: int = 5) -> LookResult:
    """Evaluate the sensor until no file is still settling (or `max_looks`), applying what it asks for: partitions
    and the source-file check; its run requests are the batches to run."""
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
        for event in result.asset_events or []:
            instance.report_runless_asset_event(event)
        found.new_batches += [r.partition_key for r in result.run_requests or []
                              if r.partition_key not in found.new_batches]
        cursor = result.cursor
        found.still_settling = len(parse_cursor(cursor))
        found.outside_links = outside_links_in(cursor)
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


def batches_to_run(defs: dg.Definitions, instance: dg.DagsterInstance, manifest: Manifest) -> list[str]:
    """Batches whose bronze is missing or behind the manifest (new or re-opened), then batches with a layer that
    never materialized (a run that failed or died), oldest first."""
    behind = [b.key for b in manifest.batches_to_ingest()]
    partitions = set(instance.get_dynamic_partitions("batches"))
    missing = [b for b in behind if b not in partitions]
    if missing:
        instance.add_dynamic_partitions("batches", missing)
    return behind + [key for key in unmaterialized_batches(defs, instance) if key not in behind]


def holder_of(layout: HomeLayout, batch: str) -> str | None:
    """Who holds the batch's lock now (a daemon run or another `tweet-sentiment run`), or None."""
    holder = is_locked(lock_path(layout.locks, "batch", batch))
    return describe_holder(holder) if holder is not None else None


def run_batch(defs: dg.Definitions, instance: dg.DagsterInstance, batch: Batch) -> BatchOutcome:
    """Materialize every layer of one batch in this process; failures are reported, not raised."""
    job = defs.resolve_job_def(JOB_NAME)
    tags = {BATCH_TAG: batch.key, RUN_KEY_TAG: batch.revision_run_key}
    result = execute_from_cli(job, instance, tags=tags, partition_key=batch.key, run_config=QUIET_LOGGING,
                              raise_on_error=False)
    rows = {}
    for event in result.get_asset_materialization_events():
        count = event.materialization.metadata.get("dagster/row_count")
        if count is not None:
            rows[event.asset_key.to_user_string()] = int(count.value)
    return BatchOutcome(batch.key, result.success, rows, None if result.success else first_error(result))


def first_error(result: dg.ExecuteInProcessResult) -> str:
    """The message of the first failed step of a run."""
    failures = [e for e in result.all_events if e.is_step_failure]
    return failures[0].event_specific_data.error.message.strip() if failures else "run failed"
