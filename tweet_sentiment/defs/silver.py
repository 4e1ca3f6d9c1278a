"""Silver: one row per @mention with a UTC timestamp and cleaned text; unparseable rows quarantined."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.defs.asset_keys import BRONZE, SILVER, SILVER_QUARANTINE
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.quality import (
    counts_table,
    non_null_check,
    quality_check_specs,
    quarantine_rate_check,
    rounded,
    schema_check,
    top_chart,
    top_table,
)
from tweet_sentiment.defs.quarantine import layer_outs
from tweet_sentiment.lakehouse.delta_io_manager import ROWS_KEY
from tweet_sentiment.lakehouse.table_names import SILVER_TABLE
from tweet_sentiment.transforms.profiling import counts_and_top_values, null_conditions
from tweet_sentiment.transforms.silver import silver_mentions, silver_quarantine, validate_tweets, validation_profile

SILVER_SCHEMA = {"timestamp": "timestamp", "mention": "string", "cleaned_text": "string", "sentiment": "string"}
HANDLE_RULE = "^[a-z0-9_]{1,15}$"
BAD_MENTIONS = " bad mentions"  # not a column name, so it cannot clash with one


class SilverConfig(dg.Config):
    """Tolerance of the silver quarantine-rate check."""

    max_quarantine_rate: float = 0.05


def mention_format_check(bad: int) -> dg.AssetCheckResult:
    """Every stored mention follows Twitter's handle rules, lower-cased."""
    return dg.AssetCheckResult(asset_key=SILVER, check_name="mention_format", passed=bad == 0,
                               metadata={"bad_mentions": bad, "rule": HANDLE_RULE})


@dg.multi_asset(
    outs=layer_outs(
        "silver", SILVER_TABLE,
        "One row per @mention of each tweet: timestamp (UTC), mention (lower case), cleaned_text without "
        "mentions, sentiment, user, source_file.",
        "Bronze rows silver rejected (unparseable date, unknown sentiment), with reasons."),
    ins={"bronze_tweets": dg.AssetIn(BRONZE)},
    partitions_def=batches,
    check_specs=[*quality_check_specs(SILVER),
                 dg.AssetCheckSpec("mention_format", asset=SILVER, blocking=True,
                                   description="Mentions follow Twitter's handle rules, lower case.")],
    pool="lakehouse_silver",
)
def silver(context: dg.AssetExecutionContext, config: SilverConfig,
           bronze_tweets: DataFrame) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Parse Twitter dates to UTC, explode mentions, clean the text; Spark built-ins only, no Python UDFs."""
    rejected_at = F.lit(datetime.now(UTC)).cast("timestamp")
    validated = validate_tweets(bronze_tweets).persist()
    reasons, with_and_without = validation_profile(validated)
    tweets_in = sum(reasons.values())
    quarantined = tweets_in - reasons.get(None, 0)
    mentions = silver_mentions(validated).persist()
    # One query for the null counts, the mention-format check and the top mentions.
    nulls, top = counts_and_top_values(
        mentions, {**null_conditions(mentions), BAD_MENTIONS: ~F.col("mention").rlike(HANDLE_RULE)}, "mention")
    format_result = mention_format_check(nulls.pop(BAD_MENTIONS))

    yield dg.Output(mentions, SILVER_TABLE, metadata={
        "tweets_in": tweets_in, **with_and_without, "quarantined": quarantined,
        "quarantine_rate": rounded(quarantined / tweets_in if tweets_in else 0.0),
        "top_20_mentions": top_table(top, "mention", "mentions"),
        "top_20_mentions_chart": top_chart("Top 20 mentions", top),
        "null_counts": counts_table(nulls, "column", "nulls")})
    yield dg.Output(silver_quarantine(validated, rejected_at), SILVER_QUARANTINE.path[-1], metadata={
        ROWS_KEY: quarantined,
        "reasons": counts_table({k: v for k, v in reasons.items() if k is not None}, "reason",
                                empty="no quarantined rows")})

    yield schema_check(SILVER, mentions, SILVER_SCHEMA)
    yield non_null_check(SILVER, nulls, ["timestamp", "mention", "cleaned_text"])
    yield quarantine_rate_check(SILVER, quarantined, tweets_in, config.max_quarantine_rate)
    yield format_result
    validated.unpersist()
