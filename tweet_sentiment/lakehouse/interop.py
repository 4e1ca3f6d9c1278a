"""Tables that every Delta reader opens, not only Spark: delta-rs (and through it polars, pandas, DuckDB).

Spark 4 writes a string column whose type came through Spark Connect as a Python `StringType()` (a pandas UDF's
result struct) as `string collate UTF8_BINARY` in the table's schema. The data is a plain string, but readers that do
not know collations refuse the whole table (delta-rs 1.6: "Unsupported Delta table type"). Gold casts such columns
with the DDL name `"string"` (transforms/gold.py: a cast to the Python `StringType()` keeps the collated type, since
Spark sees no change and drops the cast); `repair_collated_strings` rewrites the schema of an existing table.
"""

import json
from pathlib import Path

from pyspark.sql import SparkSession

from tweet_sentiment.lakehouse.delta_log import latest_version, table_metadata
from tweet_sentiment.lakehouse.tables import table_sql

REPAIR_NOTE = "tweet-sentiment maintain: plain string columns, readable by every Delta reader"
_USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"


def collated_columns(metadata: dict | None) -> list[str]:
    """Top-level columns whose type in the table's schema carries a collation."""
    if not metadata or not metadata.get("schemaString"):
        return []
    fields = json.loads(metadata["schemaString"]).get("fields", [])
    return [f["name"] for f in fields if isinstance(f.get("type"), str) and f["type"].startswith("string collate")]


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def repair_sql(path: Path, metadata: dict, version: int) -> str:
    """CREATE OR REPLACE the table from its own rows at `version`, collated columns cast to plain strings, with the
    same partitioning and properties: one commit, rows unchanged. (A plain overwrite with `overwriteSchema` keeps
    the old schema: Delta sees the types as equal.)"""
    collated = set(collated_columns(metadata))
    fields = json.loads(metadata["schemaString"])["fields"]
    columns = ", ".join(f"CAST({_quoted(f['name'])} AS STRING) AS {_quoted(f['name'])}" if f["name"] in collated
                        else _quoted(f["name"]) for f in fields)
    partitioned = metadata.get("partitionColumns") or []
    clauses = f" PARTITIONED BY ({', '.join(_quoted(c) for c in partitioned)})" if partitioned else ""
    properties = metadata.get("configuration") or {}
    if properties:
        clauses += " TBLPROPERTIES (" + ", ".join(f"{_literal(k)} = {_literal(v)}" for k, v in properties.items()) + ")"
    return (f"CREATE OR REPLACE TABLE {table_sql(path)} USING DELTA{clauses} AS SELECT {columns} "
            f"FROM {table_sql(path)} VERSION AS OF {version}")


def repair_collated_strings(spark: SparkSession, path: Path) -> list[str]:
    """Rewrite the table's collated string columns as plain strings in one commit (rows unchanged); the columns
    repaired, [] when there were none. The caller holds the table's lock."""
    version = latest_version(path)
    metadata = table_metadata(path, depth=None) if version is not None else None
    collated = collated_columns(metadata)
    if not collated:
        return []
    spark.conf.set(_USER_METADATA_CONF, REPAIR_NOTE)
    try:
        spark.sql(repair_sql(path, metadata, version)).collect()
    finally:
        spark.conf.unset(_USER_METADATA_CONF)
    return collated
