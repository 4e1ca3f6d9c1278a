"""Bronze: the raw rows of a batch's source files, typed as strings, with lineage; bad lines quarantined."""

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
from pyspark.sql import functions as F

from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.quarantine import layer_outs
from tweet_sentiment.defs.quality import (counts_table, non_null_check, quality_check_specs,
                                          quarantine_rate_check, schema_check, top_chart)
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.transforms.bronze import (CORE_FIELDS, bronze_rows, parse_lines, quarantine_rows,
                                               read_source_lines, reasons_and_extra_fields)
from tweet_sentiment.transforms.profiling import null_counts, top_values

BRONZE_SCHEMA = {**{f: "string" for f in CORE_FIELDS}, "source_file": "string", "processing_time": "timestamp"}


class BronzeConfig(dg.Config):
    """Tolerance of the bronze quarantine-rate check."""

    max_quarantine_rate: float = 0.05


@dg.multi_asset(
    outs=layer_outs(
        "bronze", "bronze_tweets",
        "Raw tweets of one batch: date, user, text, sentiment as strings, source_file, processing_time; "
        "extra source fields kept as new columns.",
        "Source lines bronze rejected (bad JSON or UTF-8, wrong types, no text), with reasons."),
    partitions_def=batches,
    check_specs=quality_check_specs("bronze_tweets"),
    pool="lakehouse_bronze",
)
def bronze(context: dg.AssetExecutionContext, config: BronzeConfig, pyspark: DeltaSparkResource,
           tweet_home: TweetSentimentHome) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Read the batch's source files (from the manifest), parse each JSON line, split good lines from bad."""
    files = tweet_home.manifest().batch_files(context.partition_key)
    missing = [f.path for f in files if not Path(f.path).exists()]
    if missing:
        raise FileNotFoundError(f"batch {context.partition_key}: {len(missing)} source files are gone, "
                                f"e.g. {missing[0]}; restore them or drop the partition")
    spark = pyspark.spark_session
    ingested_at = F.lit(datetime.now(timezone.utc)).cast("timestamp")
    parsed = parse_lines(read_source_lines(spark, [f.path for f in files])).persist()
    reasons, extra_fields = reasons_and_extra_fields(parsed)
    lines_read = sum(reasons.values())
    quarantined = lines_read - reasons.get(None, 0)
    tweets = bronze_rows(parsed, extra_fields, ingested_at).persist()
    nulls = null_counts(tweets)
    rows = lines_read - quarantined

    yield dg.Output(tweets, "bronze_tweets", metadata={
        "files": len(files), "lines_read": lines_read, "null_counts": counts_table(nulls, "column", "nulls"),
        "top_20_tweeters": top_chart("Top 20 tweeters", top_values(tweets, "user")),
        "source_files": dg.MetadataValue.json([f.path for f in files])})
    yield dg.Output(quarantine_rows(parsed, "bronze", ingested_at), "bronze_quarantine", metadata={
        "reasons": counts_table({k: v for k, v in reasons.items() if k is not None}, "reason")})
    parsed.unpersist()

    yield schema_check("bronze_tweets", tweets, BRONZE_SCHEMA)
    yield non_null_check("bronze_tweets", nulls, ["text", "source_file", "processing_time"])
    yield quarantine_rate_check("bronze_tweets", quarantined, lines_read, config.max_quarantine_rate)
    context.log.info(f"batch {context.partition_key}: {lines_read} lines, {rows} bronze rows, "
                     f"{quarantined} quarantined")
