"""Delta I/O of the incremental aggregates (the partials are written by `partition_writer`): totals MERGEd or
rebuilt, the partials' change feed read, and what each aggregate table read recorded in its own commit
(`userMetadata`), so an update resumes exactly where the last committed one stopped, whatever happened between."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from tweet_sentiment.lakehouse.delta_log import latest_version, recorded_state
from tweet_sentiment.lakehouse.tables import table_sql

STATE_KEY = "tweet_sentiment_aggregate"
_USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"


@dataclass(frozen=True)
class AggregateState:
    """What an aggregate table's newest update read: the partials and gold versions."""

    partials_version: int
    gold_version: int

    def user_metadata(self) -> str:
        return json.dumps({STATE_KEY: {"partials_version": self.partials_version, "gold_version": self.gold_version}})


def read_state(path: Path) -> AggregateState | None:
    """The state the newest update of the table at `path` committed; None when the table has none (never built,
    or built by an older version of this code): the caller rebuilds it whole."""
    state = recorded_state(path, STATE_KEY) if latest_version(path) is not None else None
    if state is None:
        return None
    return AggregateState(int(state["partials_version"]), int(state["gold_version"]))


def overwrite(frame: DataFrame, path: Path, user_metadata: str) -> None:
    """Replace the whole table (a full rebuild), its schema included."""
    (frame.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
     .option("userMetadata", user_metadata).save(str(path)))


def changes(spark: SparkSession, path: Path, after_version: int, upto_version: int) -> DataFrame:
    """The change feed of versions (`after_version`, `upto_version`]: rows with `_change_type`."""
    return (spark.read.format("delta").option("readChangeFeed", "true")
            .option("startingVersion", after_version + 1).option("endingVersion", upto_version).load(str(path)))


def _merge(spark: SparkSession, path: Path, source: DataFrame, keys: Sequence[str], clauses: str,
           user_metadata: str) -> None:
    """MERGE `source` into the table on `keys` with the given WHEN clauses, the commit carrying `user_metadata`."""
    view = f"updates_{uuid.uuid4().hex}"  # the engine's session is shared by every run: a name of our own
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    source.createOrReplaceTempView(view)
    # MERGE has no userMetadata option; the session setting is read at commit and unset right after.
    spark.conf.set(_USER_METADATA_CONF, user_metadata)
    try:
        spark.sql(f"MERGE INTO {table_sql(path)} AS t USING {view} AS s ON {on} {clauses}").collect()
    finally:
        spark.conf.unset(_USER_METADATA_CONF)
        spark.catalog.dropTempView(view)


def merge_updates(spark: SparkSession, path: Path, updates: DataFrame, keys: Sequence[str], user_metadata: str) -> None:
    """MERGE `updates` (whole rows) into the table on `keys`: a row with total 0 is deleted, others upserted."""
    _merge(spark, path, updates, keys, "WHEN MATCHED AND s.total = 0 THEN DELETE WHEN MATCHED THEN UPDATE SET * "
           "WHEN NOT MATCHED AND s.total > 0 THEN INSERT *", user_metadata)


def merge_increments(spark: SparkSession, path: Path, increments: DataFrame, keys: Sequence[str],
                     counts: Sequence[str], user_metadata: str, earliest: Sequence[str] = (),
                     latest: Sequence[str] = ()) -> None:
    """Add `increments` (rows of the table's columns) to the table's rows on `keys`: `counts` are summed, and the
    `earliest` and `latest` columns keep the least and greatest of both. A row whose total reaches 0 is deleted; a
    new key is inserted when its total is positive. The table is not read first: the MERGE does the arithmetic."""
    sets = [f"t.`{c}` = t.`{c}` + s.`{c}`" for c in counts]
    sets += [f"t.`{c}` = least(t.`{c}`, s.`{c}`)" for c in earliest]
    sets += [f"t.`{c}` = greatest(t.`{c}`, s.`{c}`)" for c in latest]
    _merge(spark, path, increments, keys, "WHEN MATCHED AND t.total + s.total = 0 THEN DELETE "
           f"WHEN MATCHED THEN UPDATE SET {', '.join(sets)} WHEN NOT MATCHED AND s.total > 0 THEN INSERT *",
           user_metadata)
