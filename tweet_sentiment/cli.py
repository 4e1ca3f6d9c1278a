"""The `tweet-sentiment` command: generate data, run the pipeline, inspect status, manage the model."""

import os
import sys
from pathlib import Path

import click

from tweet_sentiment.settings import (
    ALLOW_OUTSIDE_LINKS_ENV_VAR,
    ALLOW_OVERWRITES_ENV_VAR,
    HOME_ENV_VAR,
    SOURCE_ENV_VAR,
    HomeLayout,
)

home_option = click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), envvar=HOME_ENV_VAR, default=None,
    help=f"Folder for all state (lakehouse, manifest, MLflow, Dagster). Default: ${HOME_ENV_VAR} or "
         "~/.tweet_sentiment.")
source_option = click.option(
    "--source", type=click.Path(file_okay=False, path_type=Path), envvar=SOURCE_ENV_VAR, default=None,
    help=f"Folder the tweet files land in. Default: ${SOURCE_ENV_VAR} or <home>/source.")


@click.group()
def main() -> None:
    """tweet_sentiment: sentiment toward Twitter/X accounts on Dagster, Spark, Delta Lake and MLflow."""


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write into.")
@click.option("--tweets", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--files", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
def generate(out: Path, tweets: int, files: int, seed: int) -> None:
    """Write reproducible synthetic tweet files (JSON lines) into OUT."""
    from tweet_sentiment.landing.generate import write_source_files

    try:
        paths = write_source_files(out, tweets=tweets, files=files, seed=seed)
    except FileExistsError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"wrote {tweets} tweets in {len(paths)} files to {out}")


@main.command()
@home_option
@source_option
@click.option("--sample-if-empty", type=click.IntRange(min=0), default=0,
              help="Generate this many sample tweets first when the source folder has no files.")
@click.option("--allow-overwrites", is_flag=True, envvar=ALLOW_OVERWRITES_ENV_VAR,
              help="Re-ingest files that changed after they were ingested; each new version replaces the old rows.")
@click.option("--allow-outside-links", is_flag=True, envvar=ALLOW_OUTSIDE_LINKS_ENV_VAR,
              help="Follow symlinks in the source folder that lead outside it (skipped and reported by default).")
@click.option("--verbose", is_flag=True, help="Show library and Dagster logs on the terminal too.")
def run(home: Path | None, source: Path | None, sample_if_empty: int, allow_overwrites: bool,
        allow_outside_links: bool, verbose: bool) -> None:
    """Ingest every new file in the source folder, as the sensor would, and run each batch that needs it."""
    from tweet_sentiment.commands.summary import console
    from tweet_sentiment.commands.terminal import log_file, quiet_terminal

    if allow_overwrites:
        os.environ[ALLOW_OVERWRITES_ENV_VAR] = "1"
    if allow_outside_links:
        os.environ[ALLOW_OUTSIDE_LINKS_ENV_VAR] = "1"
    layout = HomeLayout.resolve(home)
    from tweet_sentiment.commands.mlflow_ui import UI_URL_ENV_VAR, remembered_ui_url

    if remembered_ui_url(layout) and UI_URL_ENV_VAR not in os.environ:  # links that work whenever `dev` runs
        os.environ[UI_URL_ENV_VAR] = remembered_ui_url(layout)
    log_path = log_file(layout.root / "logs", "run")
    console.print(f"[dim]full log: {log_path}[/]")
    with quiet_terminal(console, log_path, verbose):
        from tweet_sentiment.commands.main_job import run_main_job  # its imports' notices go to the log too

        code = run_main_job(layout, source, sample_if_empty)
    if code:
        console.print(f"[red]some work failed: details above and in {log_path}[/]")
    sys.exit(code)


@main.command()
@home_option
def status(home: Path | None) -> None:
    """List batches, their files, and the ones that exist but were never fully materialized."""
    from tweet_sentiment.commands.summary import print_status

    print_status(HomeLayout.resolve(home))


@main.command()
@home_option
@source_option
@click.option("--port", type=int, default=3000, show_default=True)
def dev(home: Path | None, source: Path | None, port: int) -> None:
    """Start the Dagster UI and daemon (`dagster dev`) on this home, with the sensor watching the source folder."""
    from tweet_sentiment.commands.gold_steps import ensure_production_model, registry_for
    from tweet_sentiment.commands.mlflow_ui import UI_URL_ENV_VAR
    from tweet_sentiment.instance import open_instance
    from tweet_sentiment.runs import fail_orphaned_runs

    layout = HomeLayout.resolve(home)
    instance = open_instance(layout, source)
    failed = fail_orphaned_runs(instance)
    if failed:
        click.echo(f"marked {len(failed)} runs failed whose process is gone")
    from tweet_sentiment.engine.client import REMOTE_ENV_VAR, engine_url
    from tweet_sentiment.engine.idle import add_keeper
    from tweet_sentiment.engine.state import keepers_dir

    click.echo(f"Spark engine: {engine_url(layout, on_wait=click.echo).split('/;')[0]} "
               "(it keeps running after dev stops, until its idle limit: `tweet-sentiment engine stop`)")
    if not os.environ.get(REMOTE_ENV_VAR):
        add_keeper(keepers_dir(layout), os.getpid())  # this pid becomes dagster dev's: the engine lives as long
    registry = registry_for(layout)
    model = ensure_production_model(instance, registry, step=click.echo)
    click.echo(f"gold scores with {model.uri}")
    if registry.tracking_uri is None:  # the home's own store (a tracking server has its own UI)
        from tweet_sentiment.commands.mlflow_ui import start_mlflow_ui
        from tweet_sentiment.model.registry import tracking_uri_for

        # dev's pid survives the execv below: the UI lives exactly as long as dagster dev.
        os.environ[UI_URL_ENV_VAR] = start_mlflow_ui(layout, tracking_uri_for(None, layout.root),
                                                     watch_pid=os.getpid())
    if os.environ.get(UI_URL_ENV_VAR):
        click.echo(f"MLflow UI: {os.environ[UI_URL_ENV_VAR]}")
    layout.source_dir(source).mkdir(parents=True, exist_ok=True)
    from tweet_sentiment.commands.cli_runs import workspace_file

    # Always a workspace file: its location name is the one the CLI's runs record (commands/cli_runs.py).
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port),
               "-w", str(workspace_file(layout.dagster_home))]
    from tweet_sentiment.commands.landing_watcher import start_landing_watcher

    # The watcher submits a landed file's run at once; the sensor (every 5 s) requests whatever it missed.
    start_landing_watcher(layout, source, f"http://127.0.0.1:{port}", watch_pid=os.getpid())
    click.echo(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}; watching {layout.source_dir(source)} "
               f"(landing watcher log: {layout.state / 'landing-watcher.log'})")
    # Replace this process, so that stopping it (Ctrl-C, kill) stops dagster dev and its daemon too.
    os.execv(sys.executable, command)


def _register_subcommands() -> None:
    from tweet_sentiment.bench.cli import bench
    from tweet_sentiment.commands.engine import engine
    from tweet_sentiment.commands.maintain import maintain
    from tweet_sentiment.commands.model import model
    from tweet_sentiment.commands.reset import reset

    main.add_command(model)
    main.add_command(engine)
    main.add_command(bench)
    main.add_command(maintain)
    main.add_command(reset)


_register_subcommands()
