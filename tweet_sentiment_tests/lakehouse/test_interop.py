"""Tables every Delta reader opens: a collated string column (what a pandas UDF's struct gives) is found and rewritten
as a plain string in one commit, rows, partitioning and properties unchanged."""

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F

from tweet_sentiment.lakehouse.delta_log import commit_info, latest_version, table_metadata
from tweet_sentiment.lakehouse.interop import REPAIR_NOTE, collated_columns, repair_collated_strings


def test_collated_columns_are_read_from_the_schema():
    schema = {"type": "struct", "fields": [
        {"name": "a", "type": "string", "nullable": True, "metadata": {}},
        {"name": "b", "type": "string collate UTF8_BINARY", "nullable": True, "metadata": {}},
        {"name": "c", "type": {"type": "array", "elementType": "string", "containsNull": True}, "nullable": True,
         "metadata": {}}]}
    assert collated_columns({"schemaString": json.dumps(schema)}) == ["b"]
    assert collated_columns(None) == [] and collated_columns({}) == []


def _labels(texts: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
    for batch in texts:
        yield pd.DataFrame({"label": ["POS" if "love" in t else "NEG" for t in batch], "score": 0.5})


def test_a_collated_string_column_is_rewritten_as_a_plain_string(spark, tmp_path):
    path = tmp_path / "gold"
    texts = spark.createDataFrame([("i love it", "2026-12-01"), ("awful", "2026-12-02")], "text string, day string")
    labelled = F.pandas_udf(_labels, "label string, score double")  # a result struct, as gold's scorer has
    scored = texts.select("text", "day", labelled(F.col("text")).alias("p")).select("text", "day", "p.*")
    (scored.write.format("delta").partitionBy("day").option("delta.enableChangeDataFeed", "true").save(str(path)))
    assert collated_columns(table_metadata(path)) == ["label"]
    with pytest.raises(Exception, match="collate"):
        DeltaTable(str(path))
    before = sorted(tuple(r) for r in spark.read.format("delta").load(str(path)).collect())

    assert repair_collated_strings(spark, path) == ["label"]

    assert latest_version(path) == 1 and commit_info(path / "_delta_log" / f"{1:020d}.json")["userMetadata"] == (
        REPAIR_NOTE)
    metadata = table_metadata(path)
    assert collated_columns(metadata) == [] and metadata["partitionColumns"] == ["day"]
    assert metadata["configuration"]["delta.enableChangeDataFeed"] == "true"
    assert sorted(tuple(r) for r in spark.read.format("delta").load(str(path)).collect()) == before
    opened = DeltaTable(str(path)).to_pandas()
    assert sorted(opened["label"]) == ["NEG", "POS"] and len(opened) == 2
    assert repair_collated_strings(spark, path) == [] and latest_version(path) == 1  # nothing left to repair
