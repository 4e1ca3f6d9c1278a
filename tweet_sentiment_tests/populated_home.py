"""One home taken through the whole pipeline the way `tweet-sentiment run` takes it, shared read-only by the tests
that look at its result (the session fixture `populated` in conftest.py builds it once)."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from tweet_sentiment.commands import gold_steps
from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.evaluation import sentiment_batch_metrics, sentiment_evaluation
from tweet_sentiment.defs.gold import gold_predictions
from tweet_sentiment.defs.mention_sentiment import mention_sentiment
from tweet_sentiment.defs.production_model import production_model
from tweet_sentiment.defs.silver import silver
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.model.registry import register_source
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import AGGREGATES_JOB, BATCH_JOB
from tweet_sentiment_tests.helpers import register_batches
from tweet_sentiment_tests.model_store import LABEL_IDS
from tweet_sentiment_tests.tiny_model import build_tiny_model

TWEETS = 150
# Appended to each generated file: one line for each quarantine, kept out of gold.
BAD_LINES = '{"date": "someday", "user": "x", "text": "@bob bad date", "sentiment": "positive"}\n{not json\n'


@dataclass
class PopulatedHome:
    """What the pipeline was given and what it reported."""

    home: Path
    source: Path
    instance: dg.DagsterInstance
    batches: list[str]
    registered: list[str]
    """The sources `tweet-sentiment run` registered into the empty registry (the builtin model, stood in for)."""
    production_version: str
    aggregates: gold_steps.AggregatesOutcome

    @property
    def layout(self) -> HomeLayout:
        return HomeLayout.resolve(self.home)


def populate(home: Path, source: Path, resources: dict, instance: dg.DagsterInstance, models: Path) -> PopulatedHome:
    """Two batches (one file each) through bronze, silver, gold and the batch metrics, then the aggregates and the
    evaluation; the empty registry gets a tiny model where `run` would register the builtin one."""
    for path in write_source_files(source, tweets=TWEETS, files=2, seed=11):
        with path.open("a", encoding="utf-8") as handle:
            handle.write(BAD_LINES)
    registered: list[str] = []
    tiny = build_tiny_model(models, LABEL_IDS, seed=1)
    defs = dg.Definitions(assets=[production_model, bronze, silver, gold_predictions, sentiment_batch_metrics,
                                  mention_sentiment, sentiment_evaluation],
                          jobs=[BATCH_JOB, AGGREGATES_JOB], resources=resources)
    keys = register_batches(home, source, instance, max_files=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gold_steps, "register_source", lambda source, tracking_uri, home, step: registered.append(
            source) or register_source(str(tiny), tracking_uri, home))
        version = gold_steps.ensure_production_model(instance, resources["mlflow_registry"]).version
    for key in keys:
        assert defs.resolve_job_def("batch_pipeline").execute_in_process(partition_key=key, instance=instance).success
    spark = resources["pyspark"].spark_session
    outcome = gold_steps.refresh_aggregates(defs, instance, spark, HomeLayout.resolve(home), top=3)
    assert outcome.success, outcome.error
    return PopulatedHome(home, source, instance, keys, registered, version, outcome)
