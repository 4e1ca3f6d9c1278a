"""Asset-check results and metadata shared by the layers: schema, non-null keys, quarantine rate, profiles.

What the Dagster UI shows without a click: numbers, text, links and tables (`MetadataValue.table`, on the asset page
and on the checks alike), and markdown or JSON under 1,000 characters on the asset page only. So counts are tables,
floats are rounded, and the charts (PNG data URIs, far over 1,000 characters) sit next to a table that says the same.
"""

from collections.abc import Mapping, Sequence

import dagster as dg
from pyspark.sql import DataFrame

from tweet_sentiment.charts import bar_chart_png, png_markdown, text_bar

DIGITS = 4  # metadata floats: enough to see a change between batches, short enough to read


def rounded(value: float | None, digits: int = DIGITS) -> float | None:
    """A float for metadata, rounded (None stays None)."""
    return None if value is None else round(float(value), digits)


def numeric_metadata(values: Mapping[str, object]) -> dict[str, int | float]:
    """The ints and floats of a mapping, floats rounded: what the asset's Plots tab draws over materializations."""
    return {k: (rounded(v) if isinstance(v, float) else v) for k, v in values.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def schema_check(asset: dg.AssetKey, frame: DataFrame, expected: Mapping[str, str]) -> dg.AssetCheckResult:
    """Passes when every expected column is present with the expected Spark type."""
    actual = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    problems = {name: actual.get(name, "missing") for name, kind in expected.items() if actual.get(name) != kind}
    listing = (dg.MetadataValue.table(
        [dg.TableRecord({"column": name, "expected": expected[name], "actual": found})
         for name, found in problems.items()],
        dg.TableSchema([dg.TableColumn("column"), dg.TableColumn("expected"), dg.TableColumn("actual")]))
        if problems else dg.MetadataValue.text("none"))
    return dg.AssetCheckResult(asset_key=asset, check_name="schema", passed=not problems,
                               metadata={"problems": listing, "columns": len(actual)})


def non_null_check(asset: dg.AssetKey, nulls: Mapping[str, int], keys: Sequence[str]) -> dg.AssetCheckResult:
    """Passes when none of the key columns holds a NULL."""
    offending = {k: nulls.get(k, 0) for k in keys if nulls.get(k, 0)}
    return dg.AssetCheckResult(asset_key=asset, check_name="non_null_keys", passed=not offending,
                               metadata={"keys": ", ".join(keys),
                                         "null_counts": counts_table({k: nulls.get(k, 0) for k in keys},
                                                                     "column", "nulls")})


def quarantine_rate_check(asset: dg.AssetKey, quarantined: int, total: int, max_rate: float) -> dg.AssetCheckResult:
    """Warns when more than `max_rate` of the rows were quarantined."""
    rate = quarantined / total if total else 0.0
    return dg.AssetCheckResult(asset_key=asset, check_name="quarantine_rate", passed=rate <= max_rate,
                               severity=dg.AssetCheckSeverity.WARN,
                               metadata={"rate": rounded(rate), "quarantined": quarantined, "rows_in": total,
                                         "max_rate": max_rate})


def quality_check_specs(asset: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The checks every layer runs: schema and keys block bad data, the quarantine rate warns."""
    return [
        dg.AssetCheckSpec("schema", asset=asset, blocking=True, description="Expected columns and types."),
        dg.AssetCheckSpec("non_null_keys", asset=asset, blocking=True, description="Key columns are never NULL."),
        dg.AssetCheckSpec("quarantine_rate", asset=asset, description="Share of rows quarantined stays low."),
    ]


def counts_table(counts: Mapping[str, int], key_header: str, value_header: str = "count",
                 empty: str = "none") -> dg.MetadataValue:
    """A two-column table, shown as a table wherever Dagster shows metadata; `empty` as text when there are none."""
    if not counts:
        return dg.MetadataValue.text(empty)
    return dg.MetadataValue.table(
        [dg.TableRecord({key_header: str(key), value_header: int(value)}) for key, value in counts.items()],
        dg.TableSchema([dg.TableColumn(key_header, "string"), dg.TableColumn(value_header, "int")]))


def top_table(items: Sequence[tuple[str, int]], key_header: str, value_header: str = "count") -> dg.MetadataValue:
    """The top items as a table with a text bar per row: a bar chart that the UI shows without a click."""
    if not items:
        return dg.MetadataValue.text("no data")
    largest = max(value for _, value in items)
    return dg.MetadataValue.table(
        [dg.TableRecord({"rank": rank, key_header: str(key), value_header: int(value),
                         "bar": text_bar(value, largest)}) for rank, (key, value) in enumerate(items, 1)],
        dg.TableSchema([dg.TableColumn("rank", "int"), dg.TableColumn(key_header, "string"),
                        dg.TableColumn(value_header, "int"), dg.TableColumn("bar", "string")]))


def top_chart(title: str, items: list[tuple[str, int]]) -> dg.MetadataValue:
    """A bar chart image of the top items, embedded in markdown (behind "Show Markdown": see top_table)."""
    if not items:
        return dg.MetadataValue.md(f"*{title}: no data*")
    return dg.MetadataValue.md(png_markdown(bar_chart_png(title, items), title))
