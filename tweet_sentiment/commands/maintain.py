"""`tweet-sentiment maintain`: the lakehouse_maintenance job run in this process (recorded in the home's instance,
with its metadata), and its report printed per table."""

from pathlib import Path

import click

from tweet_sentiment.lakehouse.maintenance import DEFAULT_RETENTION_HOURS
from tweet_sentiment.settings import HOME_ENV_VAR, HomeLayout

JOB = "lakehouse_maintenance"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run_maintenance(layout: HomeLayout, vacuum_hours: float) -> list[dict]:
    """Run the maintenance job on this home; its per-table rows. Raises with the job's error when it fails."""
    from tweet_sentiment.commands.batches import QUIET_LOGGING, first_error
    from tweet_sentiment.commands.cli_runs import execute_from_cli
    from tweet_sentiment.instance import open_instance
    from tweet_sentiment.runs import fail_orphaned_runs

    instance = open_instance(layout)
    fail_orphaned_runs(instance)  # a killed run is not "still reading": it must not block the VACUUM
    from tweet_sentiment.definitions import defs

    config = {**QUIET_LOGGING, "ops": {"maintain_tables": {"config": {"vacuum_hours": vacuum_hours}}}}
    result = execute_from_cli(defs().resolve_job_def(JOB), instance, run_config=config, raise_on_error=False)
    if not result.success:
        raise click.ClickException(first_error(result))
    return result.output_for_node("maintain_tables")


def print_reports(rows: list[dict]) -> None:
    from rich.table import Table

    from tweet_sentiment.commands.summary import console

    table = Table("table", "files", "size", "files on disk", "disk size", "seconds", "z-order")
    for r in rows:
        table.add_row(r["table"], f"{r['files_before']} -> {r['files_after']}",
                      f"{_size(r['bytes_before'])} -> {_size(r['bytes_after'])}",
                      f"{r['disk_files_before']} -> {r['disk_files_after']}",
                      f"{_size(r['disk_bytes_before'])} -> {_size(r['disk_bytes_after'])}", f"{r['seconds']:.1f}",
                      r["zorder_by"] or "-")
    console.print(table if rows else "no Delta tables in the lakehouse yet")
    for r in rows:
        if r.get("migrated"):
            console.print(f"{r['table']}: rewritten by ingest date (docs/layout.md), rows unchanged")
        if r.get("repaired"):
            console.print(f"{r['table']}: column(s) {r['repaired']} rewritten as plain strings, readable by every "
                          "Delta reader (delta-rs, polars, DuckDB), rows unchanged")


@click.command()
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar=HOME_ENV_VAR, default=None,
              help=f"Folder for all state. Default: ${HOME_ENV_VAR} or ~/.tweet_sentiment.")
@click.option("--vacuum-hours", type=float, default=DEFAULT_RETENTION_HOURS, show_default=True,
              help="VACUUM keeps files of versions younger than this; refused shorter than the longest run going.")
def maintain(home: Path | None, vacuum_hours: float) -> None:
    """Compact (OPTIMIZE) and VACUUM every lakehouse table; safe while batches land."""
    print_reports(run_maintenance(HomeLayout.resolve(home), vacuum_hours))
