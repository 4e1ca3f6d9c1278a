"""What the CLI shows people: progress while batches run, a summary after, and the status of every batch."""

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tweet_sentiment.discovery import scan_source
from tweet_sentiment.settings import HomeLayout

if TYPE_CHECKING:  # heavy imports stay lazy: `--help` and `generate` need no Spark or MLflow
    import dagster as dg

    from tweet_sentiment.gold_steps import AggregatesOutcome
    from tweet_sentiment.runner import BatchOutcome

console = Console(width=max(Console().width, 120))
LAYER_ASSETS = {"bronze_tweets": "bronze", "bronze_quarantine": "bronze q.", "silver_mentions": "silver",
                "silver_quarantine": "silver q.", "gold_predictions": "gold"}


def _load(layout: HomeLayout, source: Path | None) -> "tuple[dg.DagsterInstance, dg.Definitions]":
    from tweet_sentiment.instance import open_instance

    instance = open_instance(layout, source)
    from tweet_sentiment.definitions import defs

    return instance, defs()


def _ensure_sample(source_dir: Path, tweets: int) -> None:
    if tweets and not any(scan_source(source_dir)):
        from tweet_sentiment.generate import write_source_files

        paths = write_source_files(source_dir, tweets=tweets, files=4)
        console.print(f"[dim]source folder was empty: generated {tweets} sample tweets in {len(paths)} files[/]")


def run_main_job(layout: HomeLayout, source: Path | None, sample_if_empty: int = 0) -> int:
    """Discover new files, run every new or unfinished batch, re-score stale gold, refresh the aggregates, summarize.

    The exit code is 0 only when every batch and the aggregates succeeded.
    """
    import dagster as dg

    from tweet_sentiment import gold_steps, runner

    instance, defs = _load(layout, source)
    source_dir = layout.source_dir(source)
    _ensure_sample(source_dir, sample_if_empty)
    console.print(f"home {layout.root}\nsource {source_dir}")
    model = gold_steps.ensure_production_model(instance, gold_steps.registry_for(layout),
                                               step=lambda message: console.print(f"[dim]{message}[/]"))
    console.print(f"scoring with {model.uri}")
    with console.status("looking for new files (a file must stay unchanged between two looks)..."):
        found = runner.look_for_batches(defs, instance, layout)
    todo = runner.unmaterialized_batches(defs, instance)
    retried = [b for b in todo if b not in found.new_batches]
    console.print(f"{len(found.new_batches)} new batches, {len(retried)} unfinished batches to retry, "
                  f"{found.still_settling} files still being written")
    outcomes = []
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console)
    with progress:
        task = progress.add_task("batches", total=len(todo))
        for batch in todo:
            progress.update(task, description=f"batch {batch}")
            outcomes.append(runner.run_batch(defs, instance, batch))
            progress.advance(task)
    spark = defs.resources["pyspark"].spark_session
    stale = gold_steps.stale_gold_batches(spark, layout.table("gold_predictions"), instance, model.version)
    rescored = gold_steps.rescore_batches(defs, instance, stale, runner.QUIET_LOGGING) if stale else {}
    aggregates = None
    if (any(o.success for o in outcomes) or any(e is None for e in rescored.values())
            or instance.get_latest_materialization_event(dg.AssetKey("mention_sentiment")) is None):
        with console.status("refreshing mention_sentiment and the evaluation over all batches..."):
            aggregates = gold_steps.refresh_aggregates(defs, instance, spark, layout, runner.QUIET_LOGGING)
    _print_summary(defs, layout, outcomes)
    _print_aggregates(aggregates, rescored)
    failed_rescores = [b for b, error in rescored.items() if error]
    return 0 if (all(o.success for o in outcomes) and not failed_rescores
                 and (aggregates is None or aggregates.success)) else 1


def _print_aggregates(aggregates: "AggregatesOutcome | None", rescored: dict[str, str | None]) -> None:
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


def _print_summary(defs: "dg.Definitions", layout: HomeLayout, outcomes: "list[BatchOutcome]") -> None:
    from tweet_sentiment.lakehouse.tables import quarantine_reasons
    from tweet_sentiment.manifest import Manifest

    manifest = Manifest(layout.manifest)
    done = [o for o in outcomes if o.success]
    table = Table(title="batches run")
    table.add_column("batch", no_wrap=True)
    table.add_column("files", justify="right")
    for header in LAYER_ASSETS.values():
        table.add_column(header, justify="right")
    for outcome in outcomes:
        files = len(manifest.batch_files(outcome.batch))
        cells = [str(outcome.rows.get(a, "-")) for a in LAYER_ASSETS]
        table.add_row(outcome.batch if outcome.success else f"[red]{outcome.batch} FAILED[/]", str(files), *cells)
    if len(outcomes) > 1:
        totals = [str(sum(o.rows.get(a, 0) for o in done)) for a in LAYER_ASSETS]
        files = sum(len(manifest.batch_files(o.batch)) for o in done)
        table.add_row("[bold]total[/]", str(files), *totals)
    console.print(table)
    for outcome in outcomes:
        if outcome.error:
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


def print_status(layout: HomeLayout) -> None:
    """Every batch with its files and whether each layer is materialized; duplicates skipped."""
    from tweet_sentiment import runner
    from tweet_sentiment.manifest import Manifest

    instance, defs = _load(layout, None)
    manifest = Manifest(layout.manifest)
    unfinished = set(runner.unmaterialized_batches(defs, instance))
    partitions = set(instance.get_dynamic_partitions("batches"))
    table = Table(title=f"batches in {layout.root}")
    for column in ("batch", "files", "bytes", "state"):
        table.add_column(column, no_wrap=True)
    for batch in manifest.batches():
        if batch.key not in partitions:
            state = "[yellow]registered, no partition yet (the next sensor tick or `run` adds it)[/]"
        elif batch.key in unfinished:
            state = "[yellow]never fully materialized[/]"
        else:
            state = "materialized"
        table.add_row(batch.key, str(len(batch.files)), str(batch.total_bytes), state)
    console.print(table)
    for duplicate in manifest.duplicates():
        console.print(f"duplicate skipped: {duplicate.file.path} (same content as {duplicate.duplicate_of})")
    if unfinished:
        console.print(f"{len(unfinished)} batches exist but were never fully materialized: "
                      "`tweet-sentiment run` retries them")
