"""The main job outside the daemon (`tweet-sentiment run`): ingest new files, run every batch that needs it, re-score
stale gold, heal the aggregates, summarize. One at a time per home; it cooperates with the daemon's runs."""

import os
from pathlib import Path

import dagster as dg

from tweet_sentiment.commands import batches as local_batches
from tweet_sentiment.commands import gold_steps as local_gold
from tweet_sentiment.commands.home import load
from tweet_sentiment.commands.summary import console, print_aggregates, print_engine_note, print_look, print_summary
from tweet_sentiment.defs.automation import aggregates_behind
from tweet_sentiment.engine.state import EngineStoppedError
from tweet_sentiment.lakehouse.table_names import GOLD_TABLE
from tweet_sentiment.landing.discovery import scan_source
from tweet_sentiment.locks import file_lock, lock_path
from tweet_sentiment.settings import HomeLayout


def _ensure_sample(source_dir: Path, tweets: int) -> None:
    if tweets and not any(scan_source(source_dir)):
        from tweet_sentiment.landing.generate import write_source_files

        paths = write_source_files(source_dir, tweets=tweets, files=4)
        console.print(f"[dim]source folder was empty: generated {tweets} sample tweets in {len(paths)} files[/]")


def ensure_engine(layout: HomeLayout) -> str:
    """The engine this home's runs use (started when not running), in words."""
    from tweet_sentiment.engine.client import REMOTE_ENV_VAR, engine_url

    url = engine_url(layout, on_wait=lambda message: console.print(f"[dim]{message}[/]"))
    return url.split("/;")[0] + (f" (from ${REMOTE_ENV_VAR})" if os.environ.get(REMOTE_ENV_VAR) else "")


def _fail_orphaned_runs(instance: dg.DagsterInstance) -> None:
    from tweet_sentiment.runs import fail_orphaned_runs

    failed = fail_orphaned_runs(instance)
    if failed:
        console.print(f"[yellow]marked {len(failed)} runs failed whose process is gone (killed mid-run)[/]")


def run_batches(defs: dg.Definitions, instance: dg.DagsterInstance, layout: HomeLayout,
                todo: list[str]) -> list[local_batches.BatchOutcome]:
    """Run each batch that still needs it when its turn comes. A batch another process holds (a daemon run) is left
    to it; at the end we wait for those, and run any that the other process did not finish."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    manifest = defs.resources["tweet_home"].manifest()
    outcomes: dict[str, local_batches.BatchOutcome] = {}
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console)

    def run_if_needed(key: str) -> None:
        if key in local_batches.batches_to_run(defs, instance, manifest):
            outcomes[key] = local_batches.run_batch(defs, instance, manifest.batch(key))
            if not outcomes[key].success:
                raise_if_engine_stopped(layout)

    with progress:
        task = progress.add_task("batches", total=len(todo))
        for key in todo:
            progress.update(task, description=f"batch {key}")
            holder = local_batches.holder_of(layout, key)
            if holder is not None:
                outcomes[key] = local_batches.BatchOutcome(key, True, held_by=holder)
            else:
                run_if_needed(key)
            progress.advance(task)
    for key in [k for k, o in outcomes.items() if o.held_by]:
        with file_lock(lock_path(layout.locks, "batch", key), what="tweet-sentiment run, waiting for a batch",
                       on_wait=lambda message: console.print(f"[dim]{message}[/]")):
            pass
        run_if_needed(key)  # the other process failed or died before it finished the batch
    return list(outcomes.values())


def raise_if_engine_stopped(layout: HomeLayout) -> None:
    """After a failed batch: raise `EngineStoppedError` when this home's own engine (not a remote one) is gone, so
    the run stops at once instead of starting an engine again for each batch left."""
    from tweet_sentiment.engine.client import REMOTE_ENV_VAR
    from tweet_sentiment.engine.sessions import engine_stopped_message
    from tweet_sentiment.engine.state import is_running, read_state

    engine = None if os.environ.get(REMOTE_ENV_VAR) else read_state(layout)
    if engine is not None and not is_running(engine):
        raise EngineStoppedError(engine_stopped_message(engine))


def run_main_job(layout: HomeLayout, source: Path | None, sample_if_empty: int = 0) -> int:
    """Discover new files, run every new or unfinished batch, re-score stale gold, heal the aggregates, summarize.

    The exit code is 0 only when every batch run here and the aggregates succeeded. An engine that dies stops the
    run with one line that says so; the next run starts a new engine and redoes what is unfinished.
    """
    instance, defs = load(layout, source)
    with file_lock(layout.locks / "main-job.lock", what="tweet-sentiment run",
                   on_wait=lambda message: console.print(f"[yellow]{message}[/]")):
        try:
            return _run_main_job(instance, defs, layout, source, sample_if_empty)
        except EngineStoppedError as error:
            console.print(f"[red]{error}[/]")
            return 1


def _run_main_job(instance: dg.DagsterInstance, defs: dg.Definitions, layout: HomeLayout, source: Path | None,
                  sample_if_empty: int) -> int:
    _fail_orphaned_runs(instance)
    console.print(f"Spark engine: {ensure_engine(layout)}")
    source_dir = layout.source_dir(source)
    _ensure_sample(source_dir, sample_if_empty)
    console.print(f"home {layout.root}\nsource {source_dir}")
    model = local_gold.ensure_production_model(instance, local_gold.registry_for(layout),
                                               step=lambda message: console.print(f"[dim]{message}[/]"))
    console.print(f"scoring with {model.uri}")
    with console.status("looking for new files (a file must stay unchanged between two looks)..."):
        found = local_batches.look_for_batches(defs, instance, layout)
    manifest = defs.resources["tweet_home"].manifest()
    todo = local_batches.batches_to_run(defs, instance, manifest)
    print_look(found, todo)
    outcomes = run_batches(defs, instance, layout, todo)
    spark = defs.resources["pyspark"].spark_session
    stale = local_gold.stale_gold_batches(spark, layout.table(GOLD_TABLE), instance, model.version)
    rescored = local_gold.rescore_batches(defs, instance, stale, local_batches.QUIET_LOGGING) if stale else {}
    behind = aggregates_behind(instance, layout)  # the healing sensor's rule
    aggregates = None
    if behind:
        with console.status(f"refreshing {', '.join(k.to_user_string() for k in behind)} over all batches..."):
            aggregates = local_gold.refresh_aggregates(defs, instance, spark, layout, local_batches.QUIET_LOGGING,
                                                       selection=behind)
    print_summary(defs, layout, outcomes)
    print_aggregates(aggregates, rescored)
    print_engine_note(layout)
    failed_rescores = [b for b, error in rescored.items() if error]
    return 0 if (all(o.success for o in outcomes) and not failed_rescores
                 and (aggregates is None or aggregates.success)) else 1
