"""The application aggregate, kept incrementally: a per-batch partial, and per-mention totals updated from the
partials' changes, so a batch costs the same whether it is the first or the ten-thousandth."""

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.charts import png_markdown
from tweet_sentiment.defs.asset_keys import GOLD, PARTIALS
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.quality import top_chart
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.lakehouse.delta_io_manager import TABLE_PROPERTIES_KEY
from tweet_sentiment.lakehouse.delta_log import latest_version
from tweet_sentiment.lakehouse.mention_tables import update_mention_tables
from tweet_sentiment.lakehouse.table_layout import BATCH_COLUMN, CHANGE_FEED
from tweet_sentiment.lakehouse.table_names import DAILY_TABLE, TOTALS_TABLE
from tweet_sentiment.lakehouse.tables import SOURCE_VERSION_KEY
from tweet_sentiment.transforms.mention_aggregates import daily_trend, mention_day_partials
from tweet_sentiment.trend_charts import line_chart_png

TREND_MENTIONS = 5
# In a batch run, the steps that bring mention_sentiment up to date go before the batch's other steps that are ready
# at the same time (its metrics): what users read is fresh sooner by the metrics step's time, the run takes as long.
FRESHNESS_FIRST = {"dagster/priority": "1"}


def top_by(counts: DataFrame, column: str, limit: int = 20) -> list[tuple[str, int]]:
    """The `limit` mentions with the highest `column` count (ties by mention), zero counts left out."""
    rows = (counts.where(F.col(column) > 0).orderBy(F.desc(column), F.asc("mention")).limit(limit)
            .select("mention", column).collect())
    return [(r["mention"], int(r[column])) for r in rows]


def trend_chart(daily: DataFrame, mentions: list[str]) -> dg.MetadataValue:
    """Net sentiment ((positive - negative) / total) per UTC day for the given mentions, one line each."""
    rows = daily_trend(daily, mentions).collect()
    if not rows:
        return dg.MetadataValue.md("*no data*")
    days = sorted({str(r["day"]) for r in rows})
    by_mention = {m: dict.fromkeys(days) for m in mentions}
    for r in rows:
        by_mention[r["mention"]][str(r["day"])] = float(r["net_sentiment"])
    png = line_chart_png(f"Daily net sentiment, top {len(mentions)} mentions", days,
                         {m: [values[d] for d in days] for m, values in by_mention.items()}, "(pos - neg) / total")
    return dg.MetadataValue.md(png_markdown(png, "daily net sentiment"))


def gold_version_of(instance: dg.DagsterInstance, batch: str) -> int:
    """The Delta version of gold's latest materialization of `batch`: what a partial computed from that batch's gold
    rows records. -1 when gold was never materialized for it through Dagster: the partial then counts as older than
    any gold change, and the aggregate recomputes it when that batch changes."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=GOLD, asset_partitions=[batch]),
                                              limit=1).records
    version = records[0].asset_materialization.metadata.get("delta_version") if records else None
    return int(version.value) if version is not None else -1


@dg.asset(
    key=PARTIALS,
    ins={"gold_predictions": dg.AssetIn(GOLD)},
    partitions_def=batches,
    group_name="analytics",
    io_manager_key="delta_io_manager",
    metadata={"partition_expr": BATCH_COLUMN, TABLE_PROPERTIES_KEY: CHANGE_FEED},
    kinds={"spark", "delta"},
    pool="lakehouse_partials",
    op_tags=FRESHNESS_FIRST,
)
def mention_sentiment_partials(context: dg.AssetExecutionContext, gold_predictions: DataFrame) -> dg.Output:
    """One batch's contribution to mention_sentiment: per mention and UTC day, first and last tweet and predicted
    counts, stamped with the gold version read. Its change feed is what mention_sentiment is updated from."""
    # In a batch run the IO manager hands over the frame gold's step has just written: gold at that commit.
    gold_version = gold_version_of(context.instance, context.partition_key)
    return dg.Output(mention_day_partials(gold_predictions, gold_version), metadata={"gold_version": gold_version})


@dg.asset(
    deps=[GOLD, PARTIALS],  # after the batch's partial where a run has both (the sensor's batch runs)
    group_name="analytics",
    kinds={"spark", "delta"},
    pool="lakehouse_analytics",
    op_tags=FRESHNESS_FIRST,
)
def mention_sentiment(context: dg.AssetExecutionContext, pyspark: DeltaSparkResource,
                      tweet_home: TweetSentimentHome) -> dg.MaterializeResult:
    """One row per mention over all batches: first and last tweet, predicted negative/neutral/positive counts and
    total. Updated with one MERGE from the partials' changes (a re-run or re-scored batch replaces its contribution),
    with mention_sentiment_daily (per mention and day) beside it."""
    spark, layout = pyspark.spark_session, tweet_home.layout
    update = update_mention_tables(spark, layout, on_wait=context.log.info)
    known = set(context.instance.get_dynamic_partitions(batches.name))
    for batch in update.partials_recomputed or []:
        if batch in known:  # recomputed here because the run that re-scored gold did not: say so in the UI
            context.log_event(dg.AssetMaterialization(PARTIALS, partition=batch, metadata={
                "gold_version": update.gold_version, "recomputed_by": "mention_sentiment"}))
    counts = spark.read.format("delta").load(str(layout.table(TOTALS_TABLE)))
    daily = spark.read.format("delta").load(str(layout.table(DAILY_TABLE)))
    top_total = top_by(counts, "total", TREND_MENTIONS)
    mentions = counts.count()
    recomputed = "all" if update.partials_recomputed is None else len(update.partials_recomputed)
    context.log.info(f"{mentions} mentions; {update.modes}; partials recomputed: {recomputed}")
    return dg.MaterializeResult(metadata={
        "total_mentions": mentions, "dagster/row_count": mentions, SOURCE_VERSION_KEY: update.gold_version,
        "partials_version": update.partials_version,
        "delta_version": latest_version(layout.table(TOTALS_TABLE)),
        "delta_path": dg.MetadataValue.path(str(layout.table(TOTALS_TABLE))),
        "update": dg.MetadataValue.json(update.modes),
        "partials_recomputed": recomputed,
        "most_mentioned": dg.MetadataValue.md("\n".join(
            ["| mention | total |", "| --- | ---: |"] + [f"| {m} | {n} |" for m, n in top_total])),
        "in_favour_top_20": top_chart("The people who are in favour (positive tweets)", top_by(counts, "positive")),
        "villains_top_20": top_chart("The villains (negative tweets)", top_by(counts, "negative")),
        "daily_trend": trend_chart(daily, [m for m, _ in top_total]),
    })
