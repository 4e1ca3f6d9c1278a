"""The batch pipeline job: every partitioned layer for one source-file batch."""

import dagster as dg

from tweet_sentiment.defs.partitions import batches

BATCH_PIPELINE_ASSETS = dg.AssetSelection.groups("ingestion")

batch_pipeline = dg.define_asset_job(
    "batch_pipeline",
    selection=BATCH_PIPELINE_ASSETS,
    partitions_def=batches,
    # One process per run, so all layers share one Spark session instead of starting one per step.
    executor_def=dg.in_process_executor,
    description="Materialize the medallion layers of one source-file batch.",
)
