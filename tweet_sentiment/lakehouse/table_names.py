"""The lakehouse's Delta tables by name, spelled once. Each is also the key of the asset that writes it, except
`quarantine`, which the `bronze_quarantine` and `silver_quarantine` assets write as slices (its `layer` column)."""

BRONZE_TABLE = "bronze_tweets"
SILVER_TABLE = "silver_mentions"
QUARANTINE_TABLE = "quarantine"
GOLD_TABLE = "gold_predictions"
BATCH_METRICS_TABLE = "sentiment_batch_metrics"
PARTIALS_TABLE = "mention_sentiment_partials"
TOTALS_TABLE = "mention_sentiment"
DAILY_TABLE = "mention_sentiment_daily"
