"""`tweet-sentiment bench`: the platform against plain scripts, in one run, on the same data."""

import json
from pathlib import Path

import click

from tweet_sentiment.settings import HOME_ENV_VAR, HomeLayout


@click.command()
@click.option("--quick", is_flag=True, help="Inference, bronze+silver and freshness at small sizes (< 10 minutes).")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar=HOME_ENV_VAR, default=None,
              help="Project home; the benchmark works in <home>/bench-work (wiped first), never in your lakehouse.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Result JSON. Default: bench/results/<date>.json (<date>-quick.json with --quick).")
@click.option("--only", "only", multiple=True, type=click.Choice(["freshness", "inference", "bronze_silver", "scale"]),
              help="Run only these parts (repeatable). Default: every part of the profile.")
def bench(quick: bool, home: Path | None, output: Path | None, only: tuple[str, ...]) -> None:
    """Measure gold inference, bronze+silver, freshness (and scale, full profile) against honest baselines."""
    from rich.console import Console

    from tweet_sentiment.bench.suite import FULL, PARTS, QUICK, default_output, markdown_rows, run_profile

    console = Console()
    profile = QUICK if quick else FULL
    workdir = HomeLayout.resolve(home).root / "bench-work"
    console.print(f"[bold]{profile.name} profile[/] in {workdir}")
    result = run_profile(profile, workdir, step=console.log, only=only or PARTS)
    output = output or default_output(profile)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    console.print("\n".join(markdown_rows(result)))
    console.print(f"machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, "
                  f"load {result['machine']['load_average']} -> {result['machine']['load_average_end']}")
    console.print(f"wrote {output} ({result['total_s']:.0f}s)")
    failed = [name for name, part in result["raw"].items() if "error" in part]
    if failed:
        raise click.ClickException(f"parts failed: {', '.join(failed)} (errors in {output})")
