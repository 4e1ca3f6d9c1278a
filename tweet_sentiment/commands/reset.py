"""`tweet-sentiment reset`: list what a reset deletes, ask, delete; the source folder is never touched."""

from pathlib import Path

import click

from tweet_sentiment.settings import HOME_ENV_VAR, SOURCE_ENV_VAR, HomeLayout


@click.command()
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar=HOME_ENV_VAR, default=None,
              help=f"Folder for all state. Default: ${HOME_ENV_VAR} or ~/.tweet_sentiment.")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), envvar=SOURCE_ENV_VAR, default=None,
              help="The watched source folder (never deleted; named so that a reset can refuse to touch it).")
@click.option("--keep-models/--drop-models", default=True, show_default=True,
              help="Keep the home's MLflow store (registered models, evaluation runs), or delete it too.")
@click.option("--yes", is_flag=True, help="Do not ask.")
def reset(home: Path | None, source: Path | None, keep_models: bool, yes: bool) -> None:
    """Clear the previous runs: lakehouse, manifest, sensor cursors, batch partitions and runs; `run` then starts
    afresh from the source folder."""
    from tweet_sentiment.home_reset import ResetRefusedError, execute_reset, plan_reset
    from tweet_sentiment.instance import open_instance
    from tweet_sentiment.runs import fail_orphaned_runs

    layout = HomeLayout.resolve(home)
    instance = open_instance(layout, source)
    fail_orphaned_runs(instance)
    try:
        plan = plan_reset(layout, instance, keep_models, source)
    except ResetRefusedError as error:
        raise click.ClickException(str(error)) from None
    if plan.empty:
        click.echo(f"{layout.root}: nothing to reset")
        return
    click.echo(f"reset {layout.root} deletes:")
    for line in plan.lines():
        click.echo(f"  - {line}")
    click.echo("and keeps: " + "; ".join(plan.kept))
    if not yes and not click.confirm("delete these?", default=False):
        raise click.Abort()
    try:
        execute_reset(layout, instance, plan)
    except (ResetRefusedError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("reset done: `tweet-sentiment run` starts afresh")
