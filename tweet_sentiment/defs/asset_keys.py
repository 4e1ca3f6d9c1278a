"""Every asset key of the code location, spelled once (the lakehouse assets' keys are their table names)."""

import dagster as dg

from tweet_sentiment.lakehouse.table_names import (
    BATCH_METRICS_TABLE,
    BRONZE_TABLE,
    GOLD_TABLE,
    PARTIALS_TABLE,
    SILVER_TABLE,
    TOTALS_TABLE,
)

BRONZE = dg.AssetKey(BRONZE_TABLE)
BRONZE_QUARANTINE = dg.AssetKey("bronze_quarantine")
SILVER = dg.AssetKey(SILVER_TABLE)
SILVER_QUARANTINE = dg.AssetKey("silver_quarantine")
GOLD = dg.AssetKey(GOLD_TABLE)
BATCH_METRICS = dg.AssetKey(BATCH_METRICS_TABLE)
PARTIALS = dg.AssetKey(PARTIALS_TABLE)
MENTIONS = dg.AssetKey(TOTALS_TABLE)
EVALUATION = dg.AssetKey("sentiment_evaluation")
SENTIMENT_MODEL = dg.AssetKey("sentiment_model")
PRODUCTION_MODEL = dg.AssetKey("production_model")
