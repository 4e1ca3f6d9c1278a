"""The batch pipeline job: every partitioned layer for one source-file batch."""

import dagster as dg

from tweet_sentiment.defs.asset_keys import PARTIALS
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

# What the source sensor launches: the batch's layers and then mention_sentiment in the same process and Spark
# session, so a new file reaches the aggregate without a second run (launch, imports, Spark start) and without
# waiting for the automation sensor. The batch's partial (mention_sentiment_partials) is computed in the same run, so
# the unpartitioned aggregate only applies that partial's changes. The healing sensor still refreshes it after
# re-scoring, and if a batch run failed before reaching it (the aggregate then recomputes stale partials itself).
batch_pipeline_with_mentions = dg.define_asset_job(
    "batch_pipeline_with_mentions",
    selection=BATCH_PIPELINE_ASSETS | dg.AssetSelection.groups("analytics"),
    partitions_def=batches,
    executor_def=dg.in_process_executor,
    description="Materialize the medallion layers of one source-file batch, then refresh mention_sentiment.",
)

gold_aggregates = dg.define_asset_job(
    "gold_aggregates",
    # The partials are per batch: they run in batch runs, and the aggregate recomputes any that fell behind gold.
    selection=dg.AssetSelection.groups("analytics", "evaluation") - dg.AssetSelection.assets(PARTIALS),
    executor_def=dg.in_process_executor,
    description="Refresh the aggregates over every batch: mention_sentiment and the MLflow evaluation.",
)
