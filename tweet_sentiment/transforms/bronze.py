"""Bronze: source JSON lines into typed string columns, with every bad line routed to quarantine."""

import re
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

CORE_FIELDS = ("date", "user", "text", "sentiment")
LINEAGE_COLUMNS = ("source_file", "processing_time")
RESERVED_COLUMNS = frozenset({*CORE_FIELDS, *LINEAGE_COLUMNS, "batch", "layer", "reason", "raw_record"})
QUARANTINE_COLUMNS = ("raw_record", "source_file", "layer", "reason", "quarantined_at")


def read_source_lines(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """Every non-blank line of the given files as `value`, with the file it came from as `source_file`."""
    if not paths:
        return spark.createDataFrame([], "value string, source_file string")
    lines = spark.read.text(list(paths)).select("value", file_path_of(F.col("_metadata.file_path")))
    return lines.where(F.trim("value") != "")


def file_path_of(uri: Column) -> Column:
    """A local path from Spark's file URI (`file:/a%20b.json` -> `/a b.json`); other schemes are kept."""
    # url_decode is form decoding: protect literal plus signs first.
    decoded = F.url_decode(F.replace(uri, F.lit("+"), F.lit("%2B")))
    return F.regexp_replace(decoded, r"^file:(//)?", "").alias("source_file")


def _json_type(parsed: Column, field: str) -> Column:
    """The JSON type of `field` in a parsed object (STRING, BIGINT, OBJECT<...>, ...), NULL when absent."""
    return F.schema_of_variant(F.try_variant_get(parsed, f"$.{field}", "variant"))


def quarantine_reason(value: Column, parsed: Column) -> Column:
    """Why a line cannot enter bronze, or NULL when it can."""
    reason = F.when(~F.is_valid_utf8(value), F.lit("invalid_utf8"))
    reason = reason.when(parsed.isNull(), F.lit("malformed_json"))
    reason = reason.when(~F.schema_of_variant(parsed).startswith("OBJECT"), F.lit("not_a_json_object"))
    for field in CORE_FIELDS:
        json_type = _json_type(parsed, field)
        reason = reason.when(json_type.isNotNull() & ~json_type.isin("STRING", "NULL"),
                             F.concat(F.lit(f"wrong_type:{field}="), json_type))
    text = F.try_variant_get(parsed, "$.text", "string")
    return reason.when(text.isNull() | (F.trim(text) == ""), F.lit("missing_text"))


def parse_lines(lines: DataFrame) -> DataFrame:
    """Parse each line as JSON (variant) and attach a quarantine `reason` (NULL for good lines)."""
    parsed = lines.withColumn("parsed", F.try_parse_json(F.make_valid_utf8("value")))
    return parsed.withColumn("reason", quarantine_reason(F.col("value"), F.col("parsed")))


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
    columns += [F.col("source_file"), processing_time.alias("processing_time")]
    return parsed.where(F.col("reason").isNull()).select(*columns)


def quarantine_rows(parsed: DataFrame, layer: str, quarantined_at: Column) -> DataFrame:
    """Bad lines with their raw text, source file, layer and reason."""
    return parsed.where(F.col("reason").isNotNull()).select(
        F.make_valid_utf8("value").alias("raw_record"), "source_file", F.lit(layer).alias("layer"), "reason",
        quarantined_at.alias("quarantined_at"))
