"""`tweet-sentiment engine start|stop|status`: the home's Spark Connect server."""

import time
from pathlib import Path

import click

from tweet_sentiment.settings import HOME_ENV_VAR, HomeLayout

home_option = click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), envvar=HOME_ENV_VAR, default=None,
    help=f"Folder for all state. Default: ${HOME_ENV_VAR} or ~/.tweet_sentiment.")


@click.group()
def engine() -> None:
    """The platform's Spark: a long-lived Spark Connect server with Delta Lake that every run talks to."""


@engine.command()
@home_option
@click.option("--master", default=None, help="Spark master: local[*] (default), spark://host:7077, k8s://...")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="gRPC port (default: a free one).")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--idle-minutes", type=click.FloatRange(min=0), default=None,
              help="Stop after this many minutes with no client (0: never). Default: "
                   "$TWEET_SENTIMENT_ENGINE_IDLE_MINUTES or 30.")
def start(home: Path | None, master: str | None, port: int | None, bind: str, idle_minutes: float | None) -> None:
    """Start the home's engine in the background (or say that it runs already)."""
    from tweet_sentiment.engine.server import start_engine

    state = start_engine(HomeLayout.resolve(home), master=master, port=port, bind=bind, on_wait=click.echo,
                         idle_minutes=idle_minutes)
    click.echo(f"engine running: pid {state.pid}, {state.url.split('/;')[0]}, master {state.master}, "
               f"Spark UI {state.ui_url}")


@engine.command()
@home_option
def stop(home: Path | None) -> None:
    """Stop the home's engine."""
    from tweet_sentiment.engine.server import stop_engine

    click.echo("engine stopped" if stop_engine(HomeLayout.resolve(home)) else "no engine was running")


@engine.command()
@home_option
def status(home: Path | None) -> None:
    """Whether the engine answers, its master, uptime and Spark UI address."""
    from tweet_sentiment.engine.state import is_running, read_state

    state = read_state(HomeLayout.resolve(home))
    if not is_running(state):
        click.echo("engine: not running (`tweet-sentiment engine start`, or any `run` / `dev`, starts it)")
        raise SystemExit(1)
    minutes = (time.time() - state.started_at) / 60
    idle = f"stops after {state.idle_minutes:g} min with no client" if state.idle_minutes else "no idle limit"
    click.echo(f"engine: running, pid {state.pid}, sc://{state.bind}:{state.port}, master {state.master}, "
               f"up {minutes:.0f} min, {idle}, Spark UI {state.ui_url}, log {state.log}")
