"""`tweet-sentiment maintain` and `reset` on a real home: maintenance leaves the tables reading the same; a reset
then `run` gives the tables of a fresh run, the source folder untouched, the models kept (or dropped if asked)."""

import hashlib
import subprocess

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from tweet_sentiment.lakehouse.delta_log import latest_version
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.commands.cli_helpers import CLI, env_for
from tweet_sentiment_tests.gold_helpers import register_tiny
from tweet_sentiment_tests.helpers import read_table

CONTENT = {"bronze_tweets": ["source_file", "line_number", "date", "user", "text", "sentiment"],
           "silver_mentions": ["timestamp", "mention", "cleaned_text", "sentiment"],
           "gold_predictions": ["timestamp", "mention", "cleaned_text", "predicted_sentiment", "model_version"],
           "mention_sentiment": ["mention", "min_timestamp", "max_timestamp", "negative", "neutral", "positive",
                                 "total"]}


def _tables(spark, home) -> dict[str, list[tuple]]:
    """Every table's rows without batch keys and processing times (those differ between two runs by design)."""
    return {t: sorted(tuple(r) for r in read_table(spark, home, t).select(*c).collect()) for t, c in CONTENT.items()}


def _source_fingerprint(source) -> dict[str, tuple]:
    return {str(p): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(source.rglob("*")) if p.is_file()}


def _cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=900,
                          check=False)


def _ok(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    done = _cli(args, env, stdin)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _instance(layout: HomeLayout) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(layout.dagster_home)))


@pytest.mark.slow
def test_maintain_then_reset_then_run_gives_the_tables_of_a_fresh_run(spark, tmp_path):
    source, home = tmp_path / "source", tmp_path / "home"
    write_source_files(source, tweets=120, files=3, seed=7)
    register_tiny(home)
    env, layout = env_for(home, source), HomeLayout.resolve(home)
    fingerprint = _source_fingerprint(source)

    _ok(["run"], env)
    fresh = _tables(spark, home)
    assert len(fresh["gold_predictions"]) > 0 and len(fresh["mention_sentiment"]) > 0

    out = _ok(["maintain", "--home", str(home), "--vacuum-hours", "0"], env)
    assert "gold_predictions" in out and "mention_sentiment" in out
    assert _tables(spark, home) == fresh  # compaction and VACUUM change no data
    with _instance(layout) as instance:
        (record,) = instance.get_run_records(dg.RunsFilter(job_name="lakehouse_maintenance"))
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    refused = _cli(["maintain", "--home", str(home), "--vacuum-hours", "-1"], env)
    assert refused.returncode != 0 and "negative" in refused.stdout + refused.stderr

    declined = _cli(["reset", "--home", str(home)], env, stdin="n\n")
    assert declined.returncode != 0 and "lakehouse:" in declined.stdout and "gold_predictions" in declined.stdout
    assert latest_version(layout.table("gold_predictions")) is not None  # nothing deleted without a yes

    _ok(["reset", "--home", str(home), "--yes"], env)
    assert not layout.manifest.exists() and not list(layout.lakehouse.iterdir())
    with _instance(layout) as instance:
        assert instance.get_run_records() == [] and instance.get_dynamic_partitions("batches") == []
    assert _source_fingerprint(source) == fingerprint
    assert (layout.mlflow / "mlflow.db").exists()  # --keep-models is the default

    out = _ok(["run"], env)
    assert "registering the builtin model" not in out  # the kept registry still has production
    assert _tables(spark, home) == fresh
    assert _source_fingerprint(source) == fingerprint

    _ok(["reset", "--home", str(home), "--yes", "--drop-models"], env)
    assert not layout.mlflow.exists() and _source_fingerprint(source) == fingerprint
