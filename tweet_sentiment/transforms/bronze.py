"""Bronze: source JSON lines into typed string columns, with every bad line routed to quarantine."""

import re
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

CORE_FIELDS = ("date", "user", "text", "sentiment")
LINEAGE_COLUMNS = ("source_file", "line_number", "processing_time")
QUARANTINE_COLUMNS = ("raw_record", "raw_bytes", "source_file", "line_number", "layer", "reason", "quarantined_at")
RESERVED_COLUMNS = frozenset({*CORE_FIELDS, *LINEAGE_COLUMNS, *QUARANTINE_COLUMNS, "batch"})


def _json_type(parsed: Column, field: str) -> Column:
    """The JSON type of `field` in a parsed object (STRING, BIGINT, OBJECT<...>, ...), NULL when absent."""
    return F.schema_of_variant(F.try_variant_get(parsed, f"$.{field}", "variant"))


def quarantine_reason(read_error: Column, parsed: Column) -> Column:
    """Why a line cannot enter bronze (the reader's reason first: not UTF-8, oversize, compression), or NULL."""
    reason = F.when(read_error.isNotNull(), read_error)
    reason = reason.when(parsed.isNull(), F.lit("malformed_json"))
    reason = reason.when(~F.schema_of_variant(parsed).startswith("OBJECT"), F.lit("not_a_json_object"))
    for field in CORE_FIELDS:
        json_type = _json_type(parsed, field)
        reason = reason.when(json_type.isNotNull() & ~json_type.isin("STRING", "NULL"),
                             F.concat(F.lit(f"wrong_type:{field}="), json_type))
    text = F.try_variant_get(parsed, "$.text", "string")
    return reason.when(text.isNull() | (F.trim(text) == ""), F.lit("missing_text"))


def parse_lines(lines: DataFrame) -> DataFrame:
    """Parse each line read (`landing.reader.LINE_SCHEMA`) as JSON (variant) and attach a quarantine `reason`
    (NULL for good lines)."""
    parsed = lines.withColumn("parsed", F.try_parse_json("value"))
    return parsed.withColumn("reason", quarantine_reason(F.col("read_error"), F.col("parsed")))


def _object_keys() -> Column:
    return F.map_keys(F.try_variant_get("parsed", "$", "map<string,variant>"))


def reasons_and_extra_fields(parsed: DataFrame) -> tuple[dict[str | None, int], list[str]]:
    """In one pass: lines per quarantine reason (None: good lines) and the extra field names of good lines."""
    rows = parsed.groupBy("reason").agg(
        F.count("*").alias("lines"),
        F.array_distinct(F.flatten(F.collect_set(F.when(F.col("reason").isNull(), _object_keys())))).alias("keys"),
    ).collect()
    keys = {key for row in rows if row["reason"] is None for key in row["keys"] or []}
    return {row["reason"]: int(row["lines"]) for row in rows}, sorted(keys - set(CORE_FIELDS))


def column_for_key(key: str) -> str:
    """A Delta-safe lower-case column name for a JSON key, prefixed when it would clash with ours."""
    name = re.sub(r"[^a-z0-9_]", "_", key.lower()).strip("_") or "field"
    if name[0].isdigit() or name in RESERVED_COLUMNS:
        name = f"extra_{name}"
    return name


def bronze_rows(parsed: DataFrame, extra_keys: Sequence[str], processing_time: Column) -> DataFrame:
    """Good lines as bronze rows: core fields and extra fields as strings, plus lineage."""
    def field(key: str) -> Column:
        path = "$." + key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else "$['" + key.replace("'", "\\'") + "']"
        return F.try_variant_get("parsed", path, "string")

    columns = [field(name).alias(name) for name in CORE_FIELDS]
    columns += [field(key).alias(column_for_key(key)) for key in extra_keys]
    columns += [F.col("source_file"), F.col("line_number"), processing_time.alias("processing_time")]
    return parsed.where(F.col("reason").isNull()).select(*columns)


def quarantine_rows(parsed: DataFrame, layer: str, quarantined_at: Column) -> DataFrame:
    """Bad lines with their raw text (or exact bytes, where they are not UTF-8 text), file, line, layer and reason."""
    return parsed.where(F.col("reason").isNotNull()).select(
        F.col("value").alias("raw_record"), "raw_bytes", "source_file", "line_number", F.lit(layer).alias("layer"),
        "reason", quarantined_at.alias("quarantined_at"))
