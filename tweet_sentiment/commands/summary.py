"""What the CLI shows people: what a look found, the batches run, the aggregates, and the status of a home."""

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from tweet_sentiment.settings import HomeLayout

if TYPE_CHECKING:  # heavy imports stay lazy: `--help` and `generate` need no Spark or MLflow
    import dagster as dg

    from tweet_sentiment.commands.batches import BatchOutcome, LookResult
    from tweet_sentiment.commands.gold_steps import AggregatesOutcome

console = Console(width=max(Console().width, 120))
LAYER_ASSETS = {"bronze_tweets": "bronze", "bronze_quarantine": "bronze q.", "silver_mentions": "silver",
                "silver_quarantine": "silver q.", "gold_predictions": "gold"}


def print_look(found: "LookResult", todo: list[str]) -> None:
    """New batches, batches to retry, and files that were not taken (and why)."""
    retried = [b for b in todo if b not in found.new_batches]
    console.print(f"{len(found.new_batches)} new batches, {len(retried)} unfinished batches to retry, "
                  f"{found.still_settling} files still being written")
    if found.empty_files:
        console.print(f"[dim]{found.empty_files} empty files wait for content[/]")
    for link in found.outside_links:
        console.print(f"[yellow]skipped {link}: a link that leads outside the source folder (follow such links with "
                      "--allow-outside-links)[/]")
    for modified in found.modified:
        if modified.replaced:
            console.print(f"[yellow]{modified.file.path} changed after it was ingested: its new version replaces "
                          f"the earlier one (batch {modified.batch} is re-run without it)[/]")
        else:
            console.print(f"[yellow]{modified.file.path} changed after it was ingested (batch {modified.batch}): "
                          "not re-ingested. Give new versions new names, or use --allow-overwrites.[/]")


def print_aggregates(aggregates: "AggregatesOutcome | None", rescored: dict[str, str | None]) -> None:
    """Re-scoring results, the evaluation's headline and the top mentions."""
    if rescored:
        failed = {b: e for b, e in rescored.items() if e}
        console.print(f"re-scored {len(rescored) - len(failed)} batches with the new production model")
        for batch, error in failed.items():
            console.print(f"[red]re-scoring {batch} failed: {error}[/]")
    if aggregates is None:
        return
    if not aggregates.success:
        console.print(f"[red]aggregates failed: {aggregates.error}[/]")
        return
    metadata = aggregates.metadata
    macro_f1, accuracy = metadata.get("macro_f1"), metadata.get("accuracy")
    if isinstance(macro_f1, float) and isinstance(accuracy, float):
        console.print(f"evaluation: macro-F1 {macro_f1:.3f}, accuracy {accuracy:.3f} over "
                      f"{metadata.get('rows_evaluated', '?')} rows (MLflow run {metadata.get('mlflow_run_id', '?')})")
    table = Table(title=f"top mentions (of {metadata.get('total_mentions', '?')})")
    for column in ("mention", "negative", "neutral", "positive", "total"):
        table.add_column(column, justify="left" if column == "mention" else "right")
    for row in aggregates.top_mentions:
        table.add_row(*(str(value) for value in row))
    console.print(table)


def print_summary(defs: "dg.Definitions", layout: HomeLayout, outcomes: "list[BatchOutcome]") -> None:
    """A row per batch run (rows per layer), errors, quarantine reasons, duplicates so far."""
    from tweet_sentiment.lakehouse.tables import quarantine_reasons
    from tweet_sentiment.landing.manifest import Manifest

    manifest = Manifest(layout.manifest)
    ran = [o for o in outcomes if o.held_by is None]
    done = [o for o in ran if o.success]
    table = Table(title="batches run")
    table.add_column("batch", no_wrap=True)
    table.add_column("files", justify="right")
    for header in LAYER_ASSETS.values():
        table.add_column(header, justify="right")
    for outcome in ran:
        files = len(manifest.batch_files(outcome.batch))
        cells = [str(outcome.rows.get(a, "-")) for a in LAYER_ASSETS]
        table.add_row(outcome.batch if outcome.success else f"[red]{outcome.batch} FAILED[/]", str(files), *cells)
    if len(ran) > 1:
        totals = [str(sum(o.rows.get(a, 0) for o in done)) for a in LAYER_ASSETS]
        files = sum(len(manifest.batch_files(o.batch)) for o in done)
        table.add_row("[bold]total[/]", str(files), *totals)
    if ran:
        console.print(table)
    for outcome in outcomes:
        if outcome.held_by:
            console.print(f"[yellow]{outcome.batch}: another run holds it ({outcome.held_by}); left to it[/]")
        elif outcome.error:
            console.print(f"[red]{outcome.batch}: {outcome.error}[/]")
    if done:
        spark = defs.resources["pyspark"].spark_session
        reasons = quarantine_reasons(spark, layout.table("quarantine"), [o.batch for o in done])
        for layer, reason, count in reasons:
            console.print(f"quarantined in {layer}: {count} rows ({reason})")
        if not reasons:
            console.print("quarantined: none")
    duplicates = manifest.duplicates()
    if duplicates:
        console.print(f"{len(duplicates)} files skipped as duplicates so far (see `tweet-sentiment status`)")
    if not outcomes:
        console.print("nothing new to ingest")


def _batch_state(batch_key: str, files: int, revision: int, ingested: bool, partitions: set[str],
                 unfinished: set[str]) -> str:
    if batch_key not in partitions:
        return "[yellow]registered, no partition yet (the next sensor tick or `run` adds it)[/]"
    if not ingested:
        return (f"[yellow]revision {revision}: a file was replaced, bronze not re-run yet[/]" if revision
                else "[yellow]registered, bronze not run yet[/]")
    if batch_key in unfinished:
        return "[yellow]never fully materialized[/]"
    if files == 0:
        return "retired (its files were replaced by newer versions)"
    return "materialized" + (f" (revision {revision})" if revision else "")


def print_status(layout: HomeLayout) -> None:
    """Every batch with its files and state; duplicates, modified files and runs whose process died."""
    from tweet_sentiment.commands import batches as local_batches
    from tweet_sentiment.commands.home import load
    from tweet_sentiment.runs import fail_orphaned_runs

    instance, defs = load(layout, None)
    failed = fail_orphaned_runs(instance)
    manifest = defs.resources["tweet_home"].manifest()
    unfinished = set(local_batches.unmaterialized_batches(defs, instance))
    partitions = set(instance.get_dynamic_partitions("batches"))
    behind = {b.key for b in manifest.batches_to_ingest()}
    table = Table(title=f"batches in {layout.root}")
    for column in ("batch", "files", "bytes", "state"):
        table.add_column(column, no_wrap=True)
    for batch in manifest.batches():
        state = _batch_state(batch.key, len(batch.files), batch.revision, batch.key not in behind, partitions,
                             unfinished)
        holder = local_batches.holder_of(layout, batch.key)
        table.add_row(batch.key, str(len(batch.files)), str(batch.total_bytes),
                      state + (f" [cyan](running: {holder})[/]" if holder else ""))
    console.print(table)
    for duplicate in manifest.duplicates():
        console.print(f"duplicate skipped: {duplicate.file.path} (same content as {duplicate.duplicate_of})")
    for modified in manifest.modified():
        console.print(f"[yellow]modified after ingestion, not re-ingested: {modified.file.path} (ingested version in "
                      f"batch {modified.batch}; rename new versions, or use --allow-overwrites)[/]")
    if failed:
        console.print(f"[yellow]marked {len(failed)} runs failed whose process is gone[/]")
    if unfinished or behind:
        console.print(f"{len(unfinished | behind)} batches still need a run: `tweet-sentiment run` runs them")


def print_engine_note(layout: HomeLayout) -> None:
    """How long the home's engine stays warm after this command, and how to stop it now (nothing for a remote one)."""
    import os

    from tweet_sentiment.engine.client import REMOTE_ENV_VAR
    from tweet_sentiment.engine.idle import IDLE_ENV_VAR
    from tweet_sentiment.engine.state import is_running, read_state

    engine = None if os.environ.get(REMOTE_ENV_VAR) else read_state(layout)
    if engine is None or not is_running(engine):
        return
    warm = (f"stays warm for {engine.idle_minutes:g} min after its last client" if engine.idle_minutes
            else "keeps running (no idle limit)")
    console.print(f"[dim]The Spark engine (pid {engine.pid}) {warm}; set {IDLE_ENV_VAR} to change that for its next "
                  "start. Stop it now: `tweet-sentiment engine stop`[/]")
