"""Silver: Twitter dates parsed to UTC, one row per @mention, text cleaned of mentions; bad rows quarantined."""

from itertools import chain

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

# Twitter handles: 1-15 letters, digits or underscores, not glued to a preceding word (so no e-mail addresses)
# and not running on past 15 characters.
MENTION_PATTERN = r"(?<![A-Za-z0-9_!#$%&*@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])"
TWITTER_DATE_PATTERN = r"^[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{2}:\d{2}:\d{2}) (\S+) (\d{4})$"
ZONE_OFFSETS = {
    "UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00",
    "PST": "-08:00", "PDT": "-07:00", "MST": "-07:00", "MDT": "-06:00", "CST": "-06:00", "CDT": "-05:00",
    "EST": "-05:00", "EDT": "-04:00", "AKST": "-09:00", "AKDT": "-08:00", "HST": "-10:00",
    "BST": "+01:00", "CET": "+01:00", "CEST": "+02:00", "IST": "+05:30", "JST": "+09:00",
}
SENTIMENT_ALIASES = {"negative": "negative", "neg": "negative", "neutral": "neutral", "neu": "neutral",
                     "positive": "positive", "pos": "positive"}
SILVER_COLUMNS = ("timestamp", "mention", "cleaned_text", "sentiment", "user", "source_file")


def _zone_offset(zone: Column) -> Column:
    """`+HH:MM` for a zone abbreviation or a numeric offset like `+0000`; NULL when unknown."""
    known = F.create_map(*[F.lit(x) for x in chain.from_iterable(ZONE_OFFSETS.items())])
    numeric = F.regexp_replace(zone, r"^([+-]\d{2}):?(\d{2})$", "$1:$2")
    return F.coalesce(known[F.upper(zone)], F.when(zone.rlike(r"^[+-]\d{2}:?\d{2}$"), numeric))


def parse_twitter_date(date: Column) -> Column:
    """`Mon Apr 06 22:19:45 PDT 2009` (or `+0000`) as a UTC timestamp; NULL when it cannot be parsed."""
    def part(index: int) -> Column:
        return F.regexp_extract(date, TWITTER_DATE_PATTERN, index)

    iso_like = F.concat_ws(" ", part(5), part(1), F.lpad(part(2), 2, "0"), part(3), _zone_offset(part(4)))
    return F.try_to_timestamp(iso_like, F.lit("yyyy MMM dd HH:mm:ss XXX"))


def extract_mentions(text: Column) -> Column:
    """Distinct lower-case handles mentioned in a tweet."""
    return F.array_distinct(F.transform(F.regexp_extract_all(text, F.lit(MENTION_PATTERN), F.lit(1)), F.lower))


def clean_text(text: Column) -> Column:
    """The text with mentions removed and whitespace collapsed."""
    without_mentions = F.regexp_replace(text, MENTION_PATTERN, " ")
    return F.trim(F.regexp_replace(without_mentions, r"\s+", " "))


def normalize_sentiment(sentiment: Column) -> Column:
    """negative/neutral/positive from common spellings; NULL for unknown values."""
    aliases = F.create_map(*[F.lit(x) for x in chain.from_iterable(SENTIMENT_ALIASES.items())])
    return aliases[F.lower(F.trim(sentiment))]


def validate_tweets(bronze: DataFrame) -> DataFrame:
    """Bronze rows with `timestamp`, normalised `sentiment` and a quarantine `reason` (NULL when good)."""
    checked = bronze.withColumn("timestamp", parse_twitter_date(F.col("date"))).withColumn(
        "sentiment_normalized", normalize_sentiment(F.col("sentiment")))
    reason = (F.when(F.col("timestamp").isNull(), F.lit("unparseable_date"))
              .when(F.col("sentiment").isNotNull() & F.col("sentiment_normalized").isNull(),
                    F.lit("invalid_sentiment"))
              # "@a @b": mentions but nothing said about them, so no sentiment to predict or count.
              .when(clean_text(F.col("text")) == "", F.lit("no_text_besides_mentions")))
    return checked.withColumn("reason", reason)


def silver_mentions(validated: DataFrame) -> DataFrame:
    """One row per distinct @mention of each good tweet; tweets without mentions yield no row."""
    good = validated.where(F.col("reason").isNull())
    return good.select(
        "timestamp",
        F.explode(extract_mentions(F.col("text"))).alias("mention"),
        clean_text(F.col("text")).alias("cleaned_text"),
        F.col("sentiment_normalized").alias("sentiment"),
        "user",
        "source_file",
    )


def _column_or_null(frame: DataFrame, name: str, kind: str) -> Column:
    """The column, or a typed NULL where the frame predates it (bronze rows written before lines were numbered)."""
    return (F.col(name) if name in frame.columns else F.lit(None)).cast(kind).alias(name)


def silver_quarantine(validated: DataFrame, quarantined_at: Column) -> DataFrame:
    """Rejected bronze rows as quarantine rows, the bronze record kept as JSON."""
    bronze_columns = [c for c in validated.columns if c not in ("timestamp", "sentiment_normalized", "reason",
                                                                "batch")]
    return validated.where(F.col("reason").isNotNull()).select(
        F.to_json(F.struct(*bronze_columns)).alias("raw_record"), F.lit(None).cast("binary").alias("raw_bytes"),
        "source_file", _column_or_null(validated, "line_number", "long"), F.lit("silver").alias("layer"),
        "reason", quarantined_at.alias("quarantined_at"))


def validation_profile(validated: DataFrame) -> tuple[dict[str | None, int], dict[str, int]]:
    """In one pass: tweets per quarantine reason (None: good ones), and good tweets with and without a mention."""
    has_mention = F.size(extract_mentions(F.col("text"))) > 0
    rows = validated.groupBy("reason").agg(F.count("*").alias("tweets"),
                                           F.sum(has_mention.cast("long")).alias("with")).collect()
    reasons = {row["reason"]: int(row["tweets"]) for row in rows}
    with_mentions = sum(int(row["with"] or 0) for row in rows if row["reason"] is None)
    return reasons, {"tweets_with_mentions": with_mentions,
                     "tweets_without_mentions": reasons.get(None, 0) - with_mentions}
