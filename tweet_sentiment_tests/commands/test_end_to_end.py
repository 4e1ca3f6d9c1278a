"""Generated files -> sensor -> runs -> Delta tables, through the same code path as `tweet-sentiment run`."""

import json
import re

import dagster as dg
import pytest

from tweet_sentiment.commands import batches as runner
from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.jobs import batch_pipeline
from tweet_sentiment.defs.sensors import source_files_sensor
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.landing.manifest import Manifest
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.helpers import read_table

HANDLE = re.compile(r"(?<![A-Za-z0-9_!#$%&*@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")


@pytest.mark.slow
def test_generated_files_flow_through_sensor_and_runs_into_delta(resources, instance, home, source_dir, spark):
    paths = write_source_files(source_dir, tweets=300, files=3, seed=5)
    tweets = [json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines()]
    expected_mentions = sum(len({m.lower() for m in HANDLE.findall(t["text"])}) for t in tweets)
    defs = dg.Definitions(assets=[bronze, silver], jobs=[batch_pipeline], sensors=[source_files_sensor],
                          resources=resources)
    layout = HomeLayout.resolve(home)

    found = runner.look_for_batches(defs, instance, layout, settle_seconds=0.01)
    assert len(found.new_batches) == 2 and found.still_settling == 0  # 3 files, at most 2 per batch
    assert runner.unmaterialized_batches(defs, instance) == found.new_batches
    manifest = Manifest(layout.manifest)
    outcomes = [runner.run_batch(defs, instance, manifest.batch(key)) for key in found.new_batches]

    assert all(o.success for o in outcomes), [o.error for o in outcomes]
    assert sum(o.rows["bronze_tweets"] for o in outcomes) == 300
    assert read_table(spark, home, "bronze_tweets").count() == 300
    assert read_table(spark, home, "silver_mentions").count() == expected_mentions
    assert read_table(spark, home, "quarantine").count() == 0
    assert runner.unmaterialized_batches(defs, instance) == []
    assert runner.batches_to_run(defs, instance, manifest) == []
    assert runner.look_for_batches(defs, instance, layout, settle_seconds=0.01).new_batches == []
