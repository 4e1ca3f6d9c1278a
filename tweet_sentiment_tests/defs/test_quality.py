"""Metadata the UI shows without a click: tables for counts (on checks too), rounded floats, top-N tables."""

import dagster as dg

from tweet_sentiment.defs.quality import (
    counts_table,
    non_null_check,
    numeric_metadata,
    quarantine_rate_check,
    rounded,
    top_table,
)


def _rows(value: dg.MetadataValue) -> list[dict]:
    assert isinstance(value, dg.TableMetadataValue)
    return [dict(record.data) for record in value.records]


def test_counts_table_is_a_table_and_an_empty_one_says_so() -> None:
    table = counts_table({"text": 0, "user": 2}, "column", "nulls")
    assert _rows(table) == [{"column": "text", "nulls": 0}, {"column": "user", "nulls": 2}]
    assert [c.name for c in table.schema.columns] == ["column", "nulls"]
    empty = counts_table({}, "reason", empty="no quarantined rows")
    assert isinstance(empty, dg.TextMetadataValue) and empty.value == "no quarantined rows"


def test_non_null_check_lists_every_key_in_a_table() -> None:
    result = non_null_check("silver_mentions", {"mention": 0, "timestamp": 3, "other": 9}, ["timestamp", "mention"])
    assert not result.passed
    assert _rows(result.metadata["null_counts"]) == [{"column": "timestamp", "nulls": 3},
                                                     {"column": "mention", "nulls": 0}]


def test_top_table_ranks_with_bars() -> None:
    rows = _rows(top_table([("bob", 8), ("al", 4), ("cy", 1)], "user", "tweets"))
    assert [(r["rank"], r["user"], r["tweets"]) for r in rows] == [(1, "bob", 8), (2, "al", 4), (3, "cy", 1)]
    assert [len(r["bar"]) for r in rows] == [12, 6, 2]
    assert top_table([], "user").value == "no data"


def test_floats_are_rounded_for_metadata() -> None:
    assert rounded(0.9675141242937854) == 0.9675 and rounded(None) is None
    assert numeric_metadata({"agreement": 0.9675141242937854, "rows": 7, "batch": "b1", "none": None,
                             "flag": True}) == {"agreement": 0.9675, "rows": 7}
    assert quarantine_rate_check("bronze_tweets", 1, 3, 0.05).metadata["rate"].value == 0.3333
