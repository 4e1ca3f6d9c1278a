"""Signed change-feed arithmetic: a replaced batch's old rows subtract, new rows add, first/last tweet recomputed
only for the mentions that lost rows, and a mention left with nothing gets total 0 (the MERGE deletes it). The MERGE
that applies them is tested in lakehouse/test_mention_tables.py, against a full rebuild."""

from datetime import date, datetime

from tweet_sentiment.transforms.mention_aggregates import daily_increments, totals_increments, totals_updates

PARTIAL = ("mention string, day date, min_timestamp timestamp, max_timestamp timestamp, negative long, "
           "neutral long, positive long, total long")
TOTALS = ("mention string, min_timestamp timestamp, max_timestamp timestamp, negative long, neutral long, "
          "positive long, total long")


def _t(day: int) -> datetime:
    return datetime(2009, 4, day, 12)


def test_a_replaced_batch_moves_first_tweet_and_counts(spark):
    totals = spark.createDataFrame([("bob", _t(1), _t(5), 1, 0, 2, 3), ("al", _t(2), _t(2), 1, 0, 0, 1),
                                    ("cy", _t(3), _t(3), 0, 1, 0, 1)], TOTALS)
    # b1 held bob's first tweet (day 1, NEG) and al's only one; it is replaced by one POS tweet of bob on day 4.
    changes = spark.createDataFrame([
        ("bob", date(2009, 4, 1), _t(1), _t(1), 1, 0, 0, 1, "delete"),
        ("al", date(2009, 4, 2), _t(2), _t(2), 1, 0, 0, 1, "delete"),
        ("bob", date(2009, 4, 4), _t(4), _t(4), 0, 0, 1, 1, "insert")], PARTIAL + ", _change_type string")
    partials_now = spark.createDataFrame([  # what the partials hold after the change (b1 new, b2 untouched)
        ("bob", date(2009, 4, 4), _t(4), _t(4), 0, 0, 1, 1), ("bob", date(2009, 4, 5), _t(5), _t(5), 0, 0, 2, 2),
        ("cy", date(2009, 4, 3), _t(3), _t(3), 0, 1, 0, 1)], PARTIAL)

    rows = {r.mention: tuple(r)[1:] for r in totals_updates(totals, changes, partials_now).collect()}
    assert rows == {"bob": (_t(4), _t(5), 0, 0, 3, 3), "al": (None, None, 0, 0, 0, 0)}  # cy untouched: not listed
    days = sorted(tuple(r) for r in daily_increments(changes).collect())
    assert days == [("al", date(2009, 4, 2), -1, 0, 0, -1), ("bob", date(2009, 4, 1), -1, 0, 0, -1),
                    ("bob", date(2009, 4, 4), 0, 0, 1, 1)]


def test_a_new_batch_adds_counts_and_widens_first_and_last_tweet(spark):
    totals = spark.createDataFrame([("bob", _t(2), _t(5), 1, 0, 2, 3)], TOTALS)
    changes = spark.createDataFrame([  # a new batch: bob earlier and later than before, and a new mention
        ("bob", date(2009, 4, 1), _t(1), _t(1), 0, 1, 0, 1, "insert"),
        ("bob", date(2009, 4, 7), _t(7), _t(7), 0, 0, 1, 1, "insert"),
        ("dee", date(2009, 4, 3), _t(3), _t(3), 1, 0, 0, 1, "insert")], PARTIAL + ", _change_type string")
    partials_now = spark.createDataFrame([
        ("bob", date(2009, 4, 2), _t(2), _t(5), 1, 0, 2, 3), ("bob", date(2009, 4, 1), _t(1), _t(1), 0, 1, 0, 1),
        ("bob", date(2009, 4, 7), _t(7), _t(7), 0, 0, 1, 1), ("dee", date(2009, 4, 3), _t(3), _t(3), 1, 0, 0, 1)],
        PARTIAL)
    added = {r.mention: tuple(r)[1:] for r in totals_increments(changes).collect()}
    assert added == {"bob": (_t(1), _t(7), 0, 1, 1, 2), "dee": (_t(3), _t(3), 1, 0, 0, 1)}
    # Added to bob's row as the MERGE does: the same as recomputing from the partials.
    assert {r.mention: tuple(r)[1:] for r in totals_updates(totals, changes, partials_now).collect()} == {
        "bob": (min(_t(2), _t(1)), max(_t(5), _t(7)), 1 + 0, 0 + 1, 2 + 1, 3 + 2), "dee": added["dee"]}
