"""The physical layout of the per-batch tables (docs/layout.md): partitioned by ingest date, a batch found by its
`batch` column through partition values or the per-file statistics Delta keeps in its log.

Dagster's partitions stay one per batch; the date partition only keeps the file count bounded by the number of days
once `maintain` has compacted them. Tables written before this layout (partitioned by batch) keep theirs until
`maintain` rewrites them.
"""

import json
import re
from datetime import UTC, date, datetime
from typing import Any

BATCH_COLUMN = "batch"
"""The column of every per-batch table that holds the batch's key (the Dagster partition)."""
INGEST_DATE = "ingest_date"
"""The physical partition column of the per-batch tables: the day the batch was created (UTC), `YYYY-MM-DD`."""
DEFAULT_LAYOUT = (INGEST_DATE,)
CHANGE_FEED = {"delta.enableChangeDataFeed": "true"}
"""Table properties of gold and the partials: their change feeds say exactly which batches changed, and by how much."""
_DATED_KEY = re.compile(r"^b(\d{4})(\d{2})(\d{2})T")
"""Batch keys of the manifest start with their creation time (`b20261201T161500-<digest>`)."""


def ingest_date_of(partition_key: str, today: date | None = None) -> str:
    """The ingest date of a batch: the creation day its key carries, else today (UTC) for keys without one."""
    match = _DATED_KEY.match(partition_key)
    if match:
        try:
            return date(*map(int, match.groups())).isoformat()
        except ValueError:
            pass
    return (today or datetime.now(UTC).date()).isoformat()


def _stats(add: dict[str, Any]) -> dict[str, Any]:
    raw = add.get("stats")
    try:
        stats = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return stats if isinstance(stats, dict) else {}


def value_range(add: dict[str, Any], column: str) -> tuple[Any, Any] | None:
    """(min, max) of `column` in one file: its partition value, else its statistics; None when neither is known."""
    partition_values = add.get("partitionValues") or {}
    if column in partition_values:
        return partition_values[column], partition_values[column]
    stats = _stats(add)
    low, high = (stats.get("minValues") or {}).get(column), (stats.get("maxValues") or {}).get(column)
    if low is None or high is None:
        return None
    return low, high


def single_value(add: dict[str, Any], column: str) -> Any | None:
    """The one value of `column` in a file (a partition value, or equal min and max); None when not a single one."""
    bounds = value_range(add, column)
    return bounds[0] if bounds is not None and bounds[0] == bounds[1] else None


def may_hold(add: dict[str, Any], values: dict[str, str]) -> bool:
    """Whether a file may hold rows with every column at its value; True when its statistics cannot say."""
    for column, value in values.items():
        bounds = value_range(add, column)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            return False
    return True


def surely_holds(add: dict[str, Any], values: dict[str, str]) -> bool:
    """Whether every row of the file has every column at its value (so the file holds the batch, if it has rows)."""
    return all(single_value(add, column) == value for column, value in values.items())
