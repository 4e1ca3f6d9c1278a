"""Housekeeping from the UI: compaction and VACUUM of every table (a job, and a nightly schedule that is off until
turned on), and a reset of the home's previous runs (a job, never scheduled)."""

import time

import dagster as dg

from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.home_reset import IN_PROGRESS, execute_reset, plan_reset
from tweet_sentiment.lakehouse.maintenance import DEFAULT_RETENTION_HOURS, MaintenanceReport, maintain_lakehouse


def longest_run_hours(instance: dg.DagsterInstance, own_run_id: str | None = None) -> float:
    """Hours since the oldest queued or in-progress run started (or was created): how far back a reader may be."""
    now, oldest = time.time(), None
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS)):
        if record.dagster_run.run_id == own_run_id:
            continue
        started = record.start_time or record.create_timestamp.timestamp()
        oldest = started if oldest is None else min(oldest, started)
    return 0.0 if oldest is None else (now - oldest) / 3600


def reports_markdown(reports: list[MaintenanceReport]) -> str:
    """One row per table: live files and bytes before -> after, files on disk before -> after, seconds."""
    rows = ["| table | files | bytes | files on disk | seconds |", "| --- | ---: | ---: | ---: | ---: |"]
    rows += [f"| {r.table} | {r.before.files} -> {r.after.files} | {r.before.bytes:,} -> {r.after.bytes:,} | "
             f"{r.before.disk_files} -> {r.after.disk_files} | {r.seconds:.1f} |" for r in reports]
    return "\n".join(rows)


class MaintenanceConfig(dg.Config):
    """VACUUM keeps the files of every version younger than this (refused shorter than the longest run going)."""

    vacuum_hours: float = DEFAULT_RETENTION_HOURS


@dg.op(description="OPTIMIZE (Z-ordered by mention where it pays) and VACUUM every lakehouse table, one at a time, "
                   "each under the lock its writers take.")
def maintain_tables(context: dg.OpExecutionContext, config: MaintenanceConfig, pyspark: DeltaSparkResource,
                    tweet_home: TweetSentimentHome) -> dg.Output[list]:
    """Per table, files and bytes before and after and the time taken, as metadata."""
    reports = maintain_lakehouse(
        pyspark.spark_session, tweet_home.layout, config.vacuum_hours,
        longest_run_hours(context.instance, context.run_id),
        on_table=lambda r: context.log.info(f"{r.table}: {r.before.files} -> {r.after.files} files in "
                                            f"{r.seconds:.1f}s"),
        on_wait=context.log.info)
    rows = [r.as_row() for r in reports]
    return dg.Output(rows, metadata={"tables": dg.MetadataValue.md(reports_markdown(reports)),
                                     "per_table": dg.MetadataValue.json(rows),
                                     "vacuum_hours": config.vacuum_hours,
                                     "files_before": sum(r.before.files for r in reports),
                                     "files_after": sum(r.after.files for r in reports)})


@dg.job(description="Compact and vacuum every Delta table of the lakehouse (safe while batches land).",
        executor_def=dg.in_process_executor)
def lakehouse_maintenance() -> None:
    maintain_tables()


lakehouse_maintenance_schedule = dg.ScheduleDefinition(
    job=lakehouse_maintenance, cron_schedule="30 3 * * *", default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly compaction and VACUUM (off until turned on in the UI).")


class ResetConfig(dg.Config):
    """Keep the MLflow store (registered models, evaluation runs): the default."""

    keep_models: bool = True


@dg.op(description="Delete the lakehouse, the manifest, the sensor cursors, the batch partitions and the runs and "
                   "asset history of this instance; the source folder stays. Refused while another run is going.")
def reset_home(context: dg.OpExecutionContext, config: ResetConfig, tweet_home: TweetSentimentHome) -> dg.Output[list]:
    """The reset, as the CLI does it, except for this run itself (its record stays, as the reset's receipt)."""
    layout = tweet_home.layout
    plan = plan_reset(layout, context.instance, config.keep_models, tweet_home.source_dir, context.run_id)
    for line in plan.lines():
        context.log.info(f"deleting {line}")
    execute_reset(layout, context.instance, plan, context.run_id)
    deleted = "\n".join(f"- {line}" for line in plan.lines())
    return dg.Output(plan.lines(), metadata={"deleted": dg.MetadataValue.md(deleted),
                                             "kept": dg.MetadataValue.md("\n".join(f"- {k}" for k in plan.kept))})


@dg.job(description="Clear the previous runs: an empty lakehouse and instance from which the sensor or "
                    "`tweet-sentiment run` starts afresh (stop the sensor first to keep it from ingesting again).",
        executor_def=dg.in_process_executor)
def lakehouse_reset() -> None:
    reset_home()

