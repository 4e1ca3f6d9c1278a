"""The batch pipeline job: every partitioned layer for one source-file batch."""

import dagster as dg

from tweet_sentiment.defs.partitions import batches

BATCH_PIPELINE_ASSETS = dg.AssetSelection.groups("ingestion")

batch_pipeline = dg.define_asset_job(
    "batch_pipeline",
    selection=BATCH_PIPELINE_ASSETS,
    partitions_def=batches,
    description="Materialize the medallion layers of one source-file batch.",
)
