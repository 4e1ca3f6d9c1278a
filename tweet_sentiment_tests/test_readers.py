"""Every table the pipeline writes opens in delta-rs (and so in polars, pandas and DuckDB) with Spark's rows, and the
README's example of reading them without Spark runs as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import functions as F

from tweet_sentiment.lakehouse.maintenance import lakehouse_tables
from tweet_sentiment_tests.populated_home import PopulatedHome

README = Path(__file__).resolve().parents[1] / "README.md"
EVERY_TABLE = ["bronze_tweets", "gold_predictions", "mention_sentiment", "mention_sentiment_daily",
               "mention_sentiment_partials", "quarantine", "sentiment_batch_metrics", "silver_mentions"]


def test_every_table_opens_in_delta_rs_with_the_rows_spark_reads(populated: PopulatedHome, spark):
    layout = populated.layout
    assert lakehouse_tables(layout) == EVERY_TABLE
    for table in EVERY_TABLE:
        path = str(layout.table(table))
        expected = spark.read.format("delta").load(path).count()
        opened = DeltaTable(path)
        assert opened.to_pyarrow_table().num_rows == expected > 0, table
        assert opened.version() >= 0 and opened.schema().fields, table


def readme_example() -> str:
    """The Python block of the README's section on reading the tables from outside Spark."""
    section = README.read_text().split("## Reading the tables from outside Spark", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_reads_the_tables_without_spark(populated: PopulatedHome, spark):
    env = {**os.environ, "TWEET_SENTIMENT_HOME": str(populated.home)}
    done = subprocess.run([sys.executable, "-c", readme_example()], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    top = spark.read.format("delta").load(str(populated.layout.table("mention_sentiment"))).orderBy(
        F.desc("total"), F.asc("mention")).first()
    assert top.mention in done.stdout and str(top.total) in done.stdout
