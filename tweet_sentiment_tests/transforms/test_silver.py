from datetime import datetime

import pytest
from pyspark.sql import functions as F

from tweet_sentiment.transforms.silver import (
    clean_text,
    extract_mentions,
    parse_twitter_date,
    silver_mentions,
    silver_quarantine,
    validate_tweets,
    validation_profile,
)

BRONZE = "date string, user string, text string, sentiment string, source_file string"


@pytest.mark.parametrize("date, expected", [
    ("Mon Apr 06 22:19:45 PDT 2009", datetime(2009, 4, 7, 5, 19, 45)),
    ("Sat Jan 03 10:00:00 PST 2009", datetime(2009, 1, 3, 18, 0, 0)),
    ("Wed Oct 10 20:19:24 +0000 2018", datetime(2018, 10, 10, 20, 19, 24)),
    ("Thu Jun 18 07:00:00 EDT 2009", datetime(2009, 6, 18, 11, 0, 0)),
    ("Mon Apr 06 22:19:45 XYZ 2009", None),
    ("Mon Feb 30 22:19:45 PST 2009", None),
    ("yesterday", None),
])
def test_twitter_dates_are_parsed_to_utc(spark, date, expected):
    row = spark.createDataFrame([(date,)], "date string").select(parse_twitter_date(F.col("date")).alias("t")).first()
    assert row.t == expected


@pytest.mark.parametrize("text, mentions, cleaned", [
    ("@Bob hi @bob and @Al_1!", ["bob", "al_1"], "hi and !"),
    ("mail me at x@y.com", [], "mail me at x@y.com"),
    ("@abcdefghijklmnopq too long", [], "@abcdefghijklmnopq too long"),
    ("(@Fifteen_chars_X) ok", ["fifteen_chars_x"], "( ) ok"),
    ("no  mention\there", [], "no mention here"),
])
def test_mentions_follow_twitter_handle_rules(spark, text, mentions, cleaned):
    row = spark.createDataFrame([(text,)], "text string").select(
        extract_mentions(F.col("text")).alias("m"), clean_text(F.col("text")).alias("c")).first()
    assert row.m == mentions and row.c == cleaned


def test_silver_has_one_row_per_mention_and_quarantines_bad_rows(spark):
    bronze = spark.createDataFrame([
        ("Mon Apr 06 22:19:45 PDT 2009", "u1", "@Bob hi @bob and @Al_1", "Positive", "f"),
        ("Mon Apr 06 22:19:45 PDT 2009", "u2", "no mention", "negative", "f"),
        ("Mon Apr 06 22:19:45 PDT 2009", "u3", "@carl unlabelled", None, "f"),
        ("not a date", "u4", "@dan", "neutral", "f"),
        ("Mon Apr 06 22:19:45 PDT 2009", "u5", "@eve good", "great", "f"),
        ("Mon Apr 06 22:19:45 PDT 2009", "u6", "@fay @gus", "neutral", "f"),
    ], BRONZE)
    validated = validate_tweets(bronze)
    rows = silver_mentions(validated).orderBy("mention").collect()
    quarantined = silver_quarantine(validated, F.current_timestamp()).orderBy("reason").collect()

    assert [(r.mention, r.sentiment, r.cleaned_text) for r in rows] == [
        ("al_1", "positive", "hi and"), ("bob", "positive", "hi and"), ("carl", None, "unlabelled")]
    assert [r.reason for r in quarantined] == ["invalid_sentiment", "no_text_besides_mentions", "unparseable_date"]
    assert '"user":"u4"' in quarantined[2].raw_record and quarantined[2].layer == "silver"
    reasons, with_and_without = validation_profile(validated)
    assert with_and_without == {"tweets_with_mentions": 2, "tweets_without_mentions": 1}
    assert reasons == {None: 3, "invalid_sentiment": 1, "unparseable_date": 1, "no_text_besides_mentions": 1}
