"""The source-folder sensor: new settled files become batches, partitions and runs in one SensorResult."""

import dagster as dg

from tweet_sentiment.defs.bronze import modified_files_evaluation
from tweet_sentiment.defs.jobs import batch_pipeline_with_mentions
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.resources import TweetSentimentHome
from tweet_sentiment.landing.discovery import Discovery, DiscoveryLimits, discover, outside_links_in
from tweet_sentiment.landing.manifest import Batch, Manifest

BATCH_TAG = "tweet_sentiment/batch"
RUN_KEY_TAG = "tweet_sentiment/run_key"
"""Set on every batch run, by the sensor and by `tweet-sentiment run`, so neither requests a batch the other runs."""


def has_run(instance: dg.DagsterInstance, run_key: str) -> bool:
    """Whether any run (sensor-launched or from the CLI, in any state) was made for this batch revision."""
    return bool(instance.get_run_records(dg.RunsFilter(tags={RUN_KEY_TAG: run_key}), limit=1))


CLAIM_STALE_S = 60.0
"""A run claimed by a requester (the sensor, the landing watcher) that still has no run after this long is taken
over: its claimant died between the claim and the run's creation."""


def batches_to_request(manifest: Manifest, instance: dg.DagsterInstance, requester: str = "sensor") -> list[Batch]:
    """Batches whose bronze is missing or behind their revision, that no run was made for yet, and that `requester`
    could claim (the sensor and the landing watcher never both request one): new batches, batches a superseded
    file re-opened, and batches of a tick that died before its runs were submitted."""
    return [b for b in manifest.batches_to_ingest()
            if not has_run(instance, b.revision_run_key)
            and manifest.claim_run(b.revision_run_key, requester, CLAIM_STALE_S)]


def _report(context: dg.SensorEvaluationContext, found: Discovery) -> None:
    registration = found.registration
    for link in sorted(set(found.outside_links) - set(outside_links_in(context.cursor))):
        context.log.warning(f"skipped {link}: a link that leads outside the source folder (set allow_outside_links "
                            "on the tweet_home resource, or TWEET_SENTIMENT_ALLOW_OUTSIDE_LINKS=1, to follow such "
                            "links)")
    for duplicate in registration.duplicates:
        context.log.warning(f"skipped {duplicate.file.path}: same content as {duplicate.duplicate_of}")
    for modified in registration.modified:
        if modified.replaced:
            context.log.warning(f"{modified.file.path} changed after it was ingested: its new version replaces the "
                                f"earlier one (batch {modified.batch} re-runs without it)")
        else:
            context.log.warning(f"{modified.file.path} changed after it was ingested (batch {modified.batch}): not "
                                "re-ingested; rename new versions, or set allow_overwrites to replace it")


# The sensor daemon comes round every 5 s (its own loop time). A minimum of 5 s skipped each round that came a few
# ms early, so ticks were 5 or 10 s apart (measured); 1 s lets every round look. A look is a listing and a few stats.
@dg.sensor(target=batch_pipeline_with_mentions, minimum_interval_seconds=1,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches the source folder; settled new files become batches (partitions) and runs. The "
                       "daemon evaluates it every 5 s (its loop time; the 1 s interval only keeps it from skipping a "
                       "round). Under `tweet-sentiment dev` the landing watcher submits most runs first; the ticks "
                       "that request a run are the ones with runs, the rest say why they skipped.")
def source_files_sensor(context: dg.SensorEvaluationContext, tweet_home: TweetSentimentHome) -> dg.SensorResult:
    """Look at the source folder once; a file is ingested once settled: unchanged since the previous look, or
    untouched for a few seconds by its own mtime at its first look."""
    manifest = tweet_home.manifest()
    limits = DiscoveryLimits(tweet_home.max_files_per_batch, tweet_home.max_bytes_per_batch)
    found = discover(manifest, tweet_home.source_dir, context.cursor, limits,
                     allow_overwrites=tweet_home.allow_overwrites, allow_outside_links=tweet_home.allow_outside_links)
    _report(context, found)
    todo = batches_to_request(manifest, context.instance)
    existing = set(context.instance.get_dynamic_partitions(batches.name))
    new_partitions = [b.key for b in todo if b.key not in existing]
    runs = [dg.RunRequest(partition_key=b.key, run_key=b.revision_run_key,
                          tags={BATCH_TAG: b.key, RUN_KEY_TAG: b.revision_run_key}) for b in todo]
    checks = [modified_files_evaluation(manifest.modified())] if found.registration.modified else []
    skip = None if runs or checks else (
        f"no new settled files in {tweet_home.source_dir} ({len(found.pending)} still settling, "
        f"{len(found.empty)} empty, {len(found.registration.duplicates)} duplicates, "
        f"{len(found.outside_links)} links leading outside it skipped)")
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=[batches.build_add_request(new_partitions)] if new_partitions else [],
        asset_events=checks,
        cursor=found.cursor(),
        skip_reason=skip,
    )
