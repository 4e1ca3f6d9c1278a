"""The batch pipeline job: every partitioned layer for one source-file batch."""

import dagster as dg

from tweet_sentiment.defs.partitions import batches

# Selected by group, so that definitions holding only some layers (as tests build) still resolve the jobs.
BATCH_PIPELINE_ASSETS = dg.AssetSelection.groups("ingestion", "inference")

batch_pipeline = dg.define_asset_job(
    "batch_pipeline",
    selection=BATCH_PIPELINE_ASSETS,
    partitions_def=batches,
    # One process per run, so all layers share one Spark session instead of starting one per step.
    executor_def=dg.in_process_executor,
    description="Materialize the medallion layers of one source-file batch.",
)

gold_aggregates = dg.define_asset_job(
    "gold_aggregates",
    selection=dg.AssetSelection.groups("analytics", "evaluation"),
    executor_def=dg.in_process_executor,
    description="Refresh the aggregates over every batch: mention_sentiment and the MLflow evaluation.",
)
