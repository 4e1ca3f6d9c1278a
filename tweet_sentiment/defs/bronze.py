"""Bronze: the raw rows of a batch's source files, typed as strings, with lineage; bad lines quarantined."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
from pyspark.sql import functions as F

from tweet_sentiment.defs.asset_keys import BRONZE, BRONZE_QUARANTINE
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
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.lakehouse.delta_io_manager import ROWS_KEY
from tweet_sentiment.lakehouse.table_names import BRONZE_TABLE
from tweet_sentiment.landing.manifest import Modified
from tweet_sentiment.landing.reader import DEFAULT_MAX_LINE_BYTES, read_registered
from tweet_sentiment.transforms.bronze import (
    CORE_FIELDS,
    bronze_rows,
    parse_lines,
    quarantine_rows,
    reasons_and_extra_fields,
)
from tweet_sentiment.transforms.profiling import counts_and_top_values, null_conditions

BRONZE_SCHEMA = {**{f: "string" for f in CORE_FIELDS}, "source_file": "string", "line_number": "bigint",
                 "processing_time": "timestamp"}


class BronzeConfig(dg.Config):
    """Tolerance of the bronze quarantine-rate check, and the longest line taken as a record."""

    max_quarantine_rate: float = 0.05
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """Longer lines are quarantined as `oversize_line` with their bytes (a tweet's JSON is a few KB)."""


@dg.multi_asset(
    outs=layer_outs(
        "bronze", BRONZE_TABLE,
        "Raw tweets of one batch: date, user, text, sentiment as strings, source_file, line_number, "
        "processing_time; extra source fields kept as new columns.",
        "Source lines bronze rejected (bad JSON or UTF-8, oversize, wrong types, no text, unreadable "
        "compression), with reasons and their raw text or bytes."),
    partitions_def=batches,
    check_specs=quality_check_specs(BRONZE),
    pool="lakehouse_bronze",
)
def bronze(context: dg.AssetExecutionContext, config: BronzeConfig, pyspark: DeltaSparkResource,
           tweet_home: TweetSentimentHome) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Read exactly the registered bytes of the batch's files (from the manifest), parse each JSON line, split good
    lines from bad."""
    manifest = tweet_home.manifest()
    batch = manifest.batch(context.partition_key)
    spark = pyspark.spark_session
    ingested_at = F.lit(datetime.now(UTC)).cast("timestamp")
    lines = read_registered(batch.files, {f.path: manifest.copies_of(f) for f in batch.files}, config.max_line_bytes)
    parsed = parse_lines(spark.createDataFrame(lines)).persist()
    reasons, extra_fields = reasons_and_extra_fields(parsed)
    lines_read = sum(reasons.values())
    quarantined = lines_read - reasons.get(None, 0)
    tweets = bronze_rows(parsed, extra_fields, ingested_at).persist()
    nulls, tweeters = counts_and_top_values(tweets, null_conditions(tweets), "user")
    rows = lines_read - quarantined

    yield dg.Output(tweets, BRONZE_TABLE, metadata={
        "files": len(batch.files), "lines_read": lines_read, "rows": rows, "quarantined": quarantined,
        "quarantine_rate": rounded(quarantined / lines_read if lines_read else 0.0),
        "manifest_revision": batch.revision,
        "top_20_tweeters": top_table(tweeters, "user", "tweets"),
        "top_20_tweeters_chart": top_chart("Top 20 tweeters", tweeters),
        "null_counts": counts_table(nulls, "column", "nulls"),
        "source_files": dg.MetadataValue.json([f.path for f in batch.files])})
    yield dg.Output(quarantine_rows(parsed, "bronze", ingested_at), BRONZE_QUARANTINE.path[-1], metadata={
        ROWS_KEY: quarantined,
        "reasons": counts_table({k: v for k, v in reasons.items() if k is not None}, "reason",
                                empty="no quarantined rows")})
    parsed.unpersist()
    # Both outputs are written (Dagster stores each output as it is yielded): this revision of the batch is in.
    manifest.mark_ingested(batch.key, batch.revision)

    yield schema_check(BRONZE, tweets, BRONZE_SCHEMA)
    yield non_null_check(BRONZE, nulls, ["text", "source_file", "processing_time"])
    yield quarantine_rate_check(BRONZE, quarantined, lines_read, config.max_quarantine_rate)
    context.log.info(f"batch {batch.key} (revision {batch.revision}): {len(batch.files)} files, {lines_read} lines, "
                     f"{rows} bronze rows, {quarantined} quarantined")


MODIFIED_CHECK = "source_files_unmodified"


def _modified_metadata(modified: list[Modified]) -> dict[str, object]:
    listing = "\n".join(f"- `{m.file.path}` (ingested version in batch {m.batch})" for m in modified[:50])
    return {"modified_files": len(modified), "files": dg.MetadataValue.md(listing or "none"),
            "what_to_do": "Give new versions a new file name, or set allow_overwrites on the tweet_home resource "
                          "(`tweet-sentiment run --allow-overwrites`) so that a new version replaces the earlier rows."}


def modified_files_evaluation(modified: list[Modified]) -> dg.AssetCheckEvaluation:
    """The check's result as the source sensor reports it, the moment it sees a file change (no run needed)."""
    return dg.AssetCheckEvaluation(asset_key=BRONZE, check_name=MODIFIED_CHECK,
                                   passed=not modified, metadata=_modified_metadata(modified),
                                   severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=BRONZE, name=MODIFIED_CHECK, blocking=False,
                description="No source file changed after it was ingested (changes are not re-ingested by default).")
def source_files_unmodified(tweet_home: TweetSentimentHome) -> dg.AssetCheckResult:
    """WARN while a path's current content was never ingested because the path was ingested before with other
    content."""
    modified = tweet_home.manifest().modified()
    return dg.AssetCheckResult(passed=not modified, metadata=_modified_metadata(modified),
                               severity=dg.AssetCheckSeverity.WARN)
