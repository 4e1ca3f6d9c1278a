"""The date layout's pure helpers: a batch's ingest date, and what a file's log entry says about a batch."""

import json
from datetime import date

from tweet_sentiment.lakehouse.table_layout import (
    ingest_date_of,
    may_hold,
    single_value,
    surely_holds,
    value_range,
)


def _add(partition_values: dict | None = None, low: str | None = None, high: str | None = None) -> dict:
    stats = {"numRecords": 3, "minValues": {"batch": low} if low else {}, "maxValues": {"batch": high} if high else {}}
    return {"path": "f.parquet", "partitionValues": partition_values or {}, "stats": json.dumps(stats)}


def test_the_ingest_date_is_the_day_a_manifest_key_carries():
    assert ingest_date_of("b20261201T235959-0123456789") == "2026-12-01"
    assert ingest_date_of("b20261301T000000-0123456789", today=date(2026, 1, 2)) == "2026-01-02"  # no such month
    assert ingest_date_of("p-3", today=date(2026, 1, 2)) == "2026-01-02"


def test_a_file_tells_its_batch_by_partition_value_or_equal_statistics():
    assert value_range(_add({"batch": "b1"}), "batch") == ("b1", "b1")
    assert single_value(_add(low="b2", high="b2"), "batch") == "b2"
    assert single_value(_add(low="b1", high="b3"), "batch") is None
    assert value_range(_add(), "batch") is None and single_value(_add(), "batch") is None
    assert single_value({"path": "x", "stats": "not json"}, "batch") is None


def test_may_hold_is_false_only_where_the_statistics_rule_the_batch_out():
    compacted = _add({"ingest_date": "2026-12-01"}, "b1", "b3")
    assert may_hold(compacted, {"batch": "b2"}) and not may_hold(compacted, {"batch": "b4"})
    assert not surely_holds(compacted, {"batch": "b2"})
    assert may_hold(_add(), {"batch": "b9"})  # no statistics: cannot rule it out
    one = _add({"ingest_date": "2026-12-01"}, "b2", "b2")
    assert surely_holds(one, {"batch": "b2"}) and not surely_holds(one, {"batch": "b1"})
