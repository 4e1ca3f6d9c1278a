"""Bronze + silver against the pandas and polars scripts: new batches each run, the same silver rows."""

import polars as pl

from tweet_sentiment.bench.ingestion import bench_bronze_silver
from tweet_sentiment_tests.helpers import read_table


def test_each_timed_run_is_a_new_batch_and_the_scripts_agree(tmp_path, spark, spark_resource):
    result = bench_bronze_silver(tmp_path, tweets=150, files=2, repeats=2, spark=spark_resource)

    silver = read_table(spark, tmp_path / "home", "silver_mentions")
    assert silver.select("batch").distinct().count() == 3  # warm-up + two timed runs, each its own partition
    last_batch = silver.where(silver.source_file.contains("/set-2/")).count()
    assert result["silver_rows_last_set"] == {"pandas": last_batch, "polars": last_batch}
    assert pl.read_parquet(tmp_path / "polars.parquet").height == last_batch
    assert result["bronze_silver_vs_pandas"] > 0 and len(result["platform"]["runs_s"]) == 2
    # The floor appended the same three file sets' lines, unparsed, to each of its two tables.
    bronze_rows = read_table(spark, tmp_path / "home", "bronze_tweets").count()
    for table in ("floor_bronze", "floor_silver"):
        assert spark.read.format("delta").load(str(tmp_path / "floor" / table)).count() == bronze_rows
    assert len(result["two_delta_appends"]["runs_s"]) == 2 and result["two_delta_appends_vs_pandas"] > 0
