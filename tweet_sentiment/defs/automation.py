"""Keeping derived assets right without a person: re-scoring after a new production model (declarative automation),
aggregates healed when they are behind gold, and runs whose process died marked failed."""

import dagster as dg

from tweet_sentiment.defs.asset_keys import EVALUATION, MENTIONS
from tweet_sentiment.defs.jobs import gold_aggregates
from tweet_sentiment.defs.resources import TweetSentimentHome
from tweet_sentiment.lakehouse.delta_log import latest_version
from tweet_sentiment.lakehouse.table_names import GOLD_TABLE
from tweet_sentiment.lakehouse.tables import SOURCE_VERSION_KEY
from tweet_sentiment.runs import fail_orphaned_runs
from tweet_sentiment.settings import HomeLayout

AGGREGATES = [MENTIONS, EVALUATION]
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED]

gold_automation_sensor = dg.AutomationConditionSensorDefinition(
    "gold_automation_sensor",
    target=dg.AssetSelection.groups("inference", "evaluation"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Re-scores gold partitions when production moves, and refreshes their batch metrics.",
)


def aggregates_behind(instance: dg.DagsterInstance, layout: HomeLayout) -> list[dg.AssetKey]:
    """Aggregates never materialized, or computed from an older gold version than gold has now (a run killed or
    failed before it refreshed them). Each aggregate records the gold version it read (`source_delta_version`)."""
    gold = latest_version(layout.table(GOLD_TABLE))
    if gold is None:
        return []
    behind = []
    for key in AGGREGATES:
        event = instance.get_latest_materialization_event(key)
        metadata = event.asset_materialization.metadata if event and event.asset_materialization else {}
        read = metadata.get(SOURCE_VERSION_KEY)
        if read is None or int(read.value) < gold:
            behind.append(key)
    return behind


@dg.sensor(job=gold_aggregates, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Refreshes mention_sentiment and the evaluation when they are behind gold (compared by Delta "
                       "version), e.g. after a run was killed before it reached them.")
def aggregates_healing_sensor(context: dg.SensorEvaluationContext,
                              tweet_home: TweetSentimentHome) -> dg.RunRequest | dg.SkipReason:
    """One run per gold version at most (its run key), and none while a run is in flight: it may refresh them."""
    in_flight = context.instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS), limit=1)
    if in_flight:
        return dg.SkipReason(f"run {in_flight[0].dagster_run.run_id} is in progress")
    behind = aggregates_behind(context.instance, tweet_home.layout)
    if not behind:
        return dg.SkipReason("mention_sentiment and sentiment_evaluation are up to date with gold")
    gold = latest_version(tweet_home.layout.table(GOLD_TABLE))
    names = ",".join(sorted(k.to_user_string() for k in behind))
    return dg.RunRequest(run_key=f"heal:{names}:gold-v{gold}", asset_selection=behind,
                         tags={"tweet_sentiment/healing": names})


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Marks failed the runs whose process is gone (killed or crashed), so they hold no run slot.")
def orphaned_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Runs are tagged with their process; the default run launcher has no health check of its own."""
    failed = fail_orphaned_runs(context.instance)
    for run_id in failed:
        context.log.warning(f"run {run_id}: its process is gone; marked failed")
    return dg.SkipReason(f"marked {len(failed)} orphaned runs failed" if failed else "no orphaned runs")
