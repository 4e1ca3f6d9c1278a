"""Asset-check results and metadata shared by the layers: schema, non-null keys, quarantine rate, profiles."""

from collections.abc import Mapping, Sequence

import dagster as dg
from pyspark.sql import DataFrame

from tweet_sentiment.charts import bar_chart_png, png_markdown


def schema_check(asset: str, frame: DataFrame, expected: Mapping[str, str]) -> dg.AssetCheckResult:
    """Passes when every expected column is present with the expected Spark type."""
    actual = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    problems = {name: actual.get(name, "missing") for name, kind in expected.items() if actual.get(name) != kind}
    return dg.AssetCheckResult(asset_key=asset, check_name="schema", passed=not problems,
                               metadata={"problems": dg.MetadataValue.json(problems), "columns": len(actual)})


def non_null_check(asset: str, nulls: Mapping[str, int], keys: Sequence[str]) -> dg.AssetCheckResult:
    """Passes when none of the key columns holds a NULL."""
    offending = {k: nulls.get(k, 0) for k in keys if nulls.get(k, 0)}
    return dg.AssetCheckResult(asset_key=asset, check_name="non_null_keys", passed=not offending,
                               metadata={"keys": ", ".join(keys), "null_counts": dg.MetadataValue.json(offending)})


def quarantine_rate_check(asset: str, quarantined: int, total: int, max_rate: float) -> dg.AssetCheckResult:
    """Warns when more than `max_rate` of the rows were quarantined."""
    rate = quarantined / total if total else 0.0
    return dg.AssetCheckResult(asset_key=asset, check_name="quarantine_rate", passed=rate <= max_rate,
                               severity=dg.AssetCheckSeverity.WARN,
                               metadata={"rate": rate, "quarantined": quarantined, "rows_in": total,
                                         "max_rate": max_rate})


def quality_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """The checks every layer runs: schema and keys block bad data, the quarantine rate warns."""
    return [
        dg.AssetCheckSpec("schema", asset=asset, blocking=True, description="Expected columns and types."),
        dg.AssetCheckSpec("non_null_keys", asset=asset, blocking=True, description="Key columns are never NULL."),
        dg.AssetCheckSpec("quarantine_rate", asset=asset, description="Share of rows quarantined stays low."),
    ]


def counts_table(counts: Mapping[str, int], key_header: str, value_header: str = "count") -> dg.MetadataValue:
    """A two-column markdown table for the UI."""
    lines = [f"| {key_header} | {value_header} |", "| --- | ---: |"]
    lines += [f"| {key} | {value} |" for key, value in counts.items()]
    return dg.MetadataValue.md("\n".join(lines))


def top_chart(title: str, items: list[tuple[str, int]]) -> dg.MetadataValue:
    """A bar chart image of the top items, embedded in markdown."""
    if not items:
        return dg.MetadataValue.md(f"*{title}: no data*")
    return dg.MetadataValue.md(png_markdown(bar_chart_png(title, items), title))
