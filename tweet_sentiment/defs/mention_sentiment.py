"""The application aggregate: predicted sentiment per mention over every batch, refreshed when gold changes."""

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.charts import png_markdown
from tweet_sentiment.defs.gold import GOLD
from tweet_sentiment.defs.quality import top_chart
from tweet_sentiment.defs.resources import DeltaSparkResource, TweetSentimentHome
from tweet_sentiment.lakehouse.tables import SOURCE_VERSION_KEY, read_pinned
from tweet_sentiment.transforms.mention_sentiment import daily_trend, mention_sentiment as aggregate
from tweet_sentiment.trend_charts import line_chart_png

TREND_MENTIONS = 5


def top_by(counts: DataFrame, column: str, limit: int = 20) -> list[tuple[str, int]]:
    """The `limit` mentions with the highest `column` count (ties by mention), zero counts left out."""
    rows = (counts.where(F.col(column) > 0).orderBy(F.desc(column), F.asc("mention")).limit(limit)
            .select("mention", column).collect())
    return [(r["mention"], int(r[column])) for r in rows]


def trend_chart(gold: DataFrame, mentions: list[str]) -> dg.MetadataValue:
    """Net sentiment ((positive - negative) / total) per UTC day for the given mentions, one line each."""
    rows = daily_trend(gold, mentions).collect()
    if not rows:
        return dg.MetadataValue.md("*no data*")
    days = sorted({str(r["day"]) for r in rows})
    by_mention = {m: dict.fromkeys(days) for m in mentions}
    for r in rows:
        by_mention[r["mention"]][str(r["day"])] = float(r["net_sentiment"])
    png = line_chart_png(f"Daily net sentiment, top {len(mentions)} mentions", days,
                         {m: [values[d] for d in days] for m, values in by_mention.items()}, "(pos - neg) / total")
    return dg.MetadataValue.md(png_markdown(png, "daily net sentiment"))


@dg.asset(
    deps=[GOLD],
    group_name="analytics",
    io_manager_key="delta_io_manager",
    kinds={"spark", "delta"},
    pool="lakehouse_analytics",
)
def mention_sentiment(context: dg.AssetExecutionContext, pyspark: DeltaSparkResource,
                      tweet_home: TweetSentimentHome) -> dg.Output:
    """One row per mention over all batches: first and last tweet, predicted negative/neutral/positive counts and
    total, most mentioned first. Rebuilt whole from gold, so a re-processed batch is never counted twice."""
    gold_predictions, gold_version = read_pinned(pyspark.spark_session, tweet_home.layout.table(GOLD.path[-1]))
    # One file in total order: the table is small (one row per mention) and readers see it sorted by total.
    counts = aggregate(gold_predictions).coalesce(1).persist()
    top_total = top_by(counts, "total", TREND_MENTIONS)
    mentions = counts.count()
    context.log.info(f"{mentions} mentions over {gold_predictions.select('batch').distinct().count()} batches")
    return dg.Output(counts, metadata={
        "total_mentions": mentions, SOURCE_VERSION_KEY: gold_version,
        "most_mentioned": dg.MetadataValue.md("\n".join(
            ["| mention | total |", "| --- | ---: |"] + [f"| {m} | {n} |" for m, n in top_total])),
        "in_favour_top_20": top_chart("The people who are in favour (positive tweets)", top_by(counts, "positive")),
        "villains_top_20": top_chart("The villains (negative tweets)", top_by(counts, "negative")),
        "daily_trend": trend_chart(gold_predictions, [m for m, _ in top_total]),
    })
