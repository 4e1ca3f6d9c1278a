"""The source-folder sensor: new settled files become batches, partitions and runs in one SensorResult."""

import dagster as dg

from tweet_sentiment.defs.jobs import batch_pipeline_with_mentions
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.resources import TweetSentimentHome
from tweet_sentiment.discovery import DiscoveryLimits, discover
from tweet_sentiment.manifest import Manifest

BATCH_TAG = "tweet_sentiment/batch"


def unrequested_batches(manifest: Manifest, instance: dg.DagsterInstance, exclude: set[str]) -> dict[str, str]:
    """Manifest batches with no partition yet (a tick that died after registering them): key -> run key."""
    existing = set(instance.get_dynamic_partitions(batches.name))
    return {key: run_key for key, run_key in manifest.batch_run_keys().items()
            if key not in existing and key not in exclude}


# The sensor daemon comes round every 5 s (its own loop time). A minimum of 5 s skipped each round that came a few
# ms early, so ticks were 5 or 10 s apart (measured); 1 s lets every round look. A look is a listing and a few stats.
@dg.sensor(target=batch_pipeline_with_mentions, minimum_interval_seconds=1,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Watches the source folder; settled new files become batches (partitions) and runs.")
def source_files_sensor(context: dg.SensorEvaluationContext, tweet_home: TweetSentimentHome) -> dg.SensorResult:
    """Look at the source folder once; a file is ingested once settled: unchanged since the previous look, or
    untouched for a few seconds by its own mtime."""
    manifest = tweet_home.manifest()
    limits = DiscoveryLimits(tweet_home.max_files_per_batch, tweet_home.max_bytes_per_batch)
    found = discover(manifest, tweet_home.source_dir, context.cursor, limits)
    requested = {b.key: b.run_key for b in found.registration.batches}
    requested |= unrequested_batches(manifest, context.instance, set(requested))
    for duplicate in found.registration.duplicates:
        context.log.warning(f"skipped {duplicate.file.path}: same content as {duplicate.duplicate_of}")
    runs = [dg.RunRequest(partition_key=key, run_key=run_key, tags={BATCH_TAG: key})
            for key, run_key in requested.items()]
    skip = None if runs else (f"no new settled files in {tweet_home.source_dir} "
                              f"({len(found.pending)} still settling, {len(found.registration.duplicates)} duplicates)")
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=[batches.build_add_request(list(requested))] if requested else [],
        cursor=found.cursor(),
        skip_reason=skip,
    )
