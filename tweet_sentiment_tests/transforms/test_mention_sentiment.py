from datetime import date, datetime

import pytest

from tweet_sentiment.transforms.mention_sentiment import MENTION_SENTIMENT_COLUMNS, daily_trend, mention_sentiment
from tweet_sentiment_tests.gold_helpers import gold_frame, gold_row


def test_counts_per_mention_sorted_by_total(spark):
    gold = gold_frame(spark, [
        gold_row("b1", "bob", "positive", "POS", day=3), gold_row("b1", "bob", "negative", "NEG", day=1),
        gold_row("b2", "bob", None, "POS", day=2), gold_row("b2", "al", "neutral", "NEU", day=5),
        gold_row("b2", "cy", "neutral", "NEG", day=4), gold_row("b2", "cy", "neutral", "NEG", day=4),
    ])
    counts = mention_sentiment(gold)
    assert tuple(counts.columns) == MENTION_SENTIMENT_COLUMNS
    rows = counts.collect()
    assert [(r.mention, r.negative, r.neutral, r.positive, r.total) for r in rows] == [
        ("bob", 1, 0, 2, 3), ("cy", 2, 0, 0, 2), ("al", 0, 1, 0, 1)]
    assert (rows[0].min_timestamp, rows[0].max_timestamp) == (datetime(2009, 4, 1, 12), datetime(2009, 4, 3, 12))


def test_daily_trend_net_sentiment(spark):
    gold = gold_frame(spark, [
        gold_row("b1", "bob", None, "POS", day=1), gold_row("b1", "bob", None, "POS", day=1),
        gold_row("b1", "bob", None, "NEG", day=1), gold_row("b1", "bob", None, "NEG", day=2),
        gold_row("b1", "al", None, "POS", day=1)])
    rows = daily_trend(gold, ["bob"]).collect()
    assert [(r.mention, r.day, r.negative, r.positive, r.total) for r in rows] == [
        ("bob", date(2009, 4, 1), 1, 2, 3), ("bob", date(2009, 4, 2), 1, 0, 1)]
    assert [r.net_sentiment for r in rows] == pytest.approx([1 / 3, -1.0])
