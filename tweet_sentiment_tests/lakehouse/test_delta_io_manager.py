import dagster as dg
import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.defs.resources import DeltaSparkResource
from tweet_sentiment.lakehouse.delta_io_manager import DeltaSparkIOManager, UnsafeWriteError, partition_predicate
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.helpers import read_table

parts = dg.DynamicPartitionsDefinition(name="parts")


class NumbersConfig(dg.Config):
    offset: int = 0
    wrong_batch: bool = False


@dg.asset(partitions_def=parts, io_manager_key="delta_io_manager", metadata={"partition_expr": "batch"})
def numbers(context: dg.AssetExecutionContext, config: NumbersConfig, pyspark: DeltaSparkResource) -> DataFrame:
    count = int(context.partition_key.split("-")[1])
    frame = pyspark.spark_session.range(count).withColumn("value", F.col("id") + config.offset)
    return frame.withColumn("batch", F.lit("other" if config.wrong_batch else context.partition_key))


@dg.asset(io_manager_key="delta_io_manager")
def numbers_total(numbers: DataFrame) -> DataFrame:
    return numbers.groupBy().agg(F.sum("value").alias("total"))


def _materialize(home, spark_resource, instance, key, offset=0, wrong_batch=False, assets=(numbers,)):
    return dg.materialize(
        list(assets), partition_key=key, instance=instance, raise_on_error=False,
        run_config={"ops": {"numbers": {"config": {"offset": offset, "wrong_batch": wrong_batch}}}},
        resources={"pyspark": spark_resource,
                   "delta_io_manager": DeltaSparkIOManager.for_home(spark_resource, str(home))})


def test_predicate_refuses_empty_or_unsafe_values():
    assert partition_predicate({"batch": "b1", "layer": "bronze"}) == "`batch` = 'b1' AND `layer` = 'bronze'"
    for values in ({}, {"batch": "x' OR '1'='1"}, {"batch": ""}, {"Bad Col": "x"}, {"batch": "a/b"}):
        with pytest.raises(UnsafeWriteError):
            partition_predicate(values)


def test_rewriting_a_partition_replaces_only_that_partition(home, spark, spark_resource, instance):
    instance.add_dynamic_partitions("parts", ["p-3", "p-5"])
    assert _materialize(home, spark_resource, instance, "p-3").success
    assert _materialize(home, spark_resource, instance, "p-5").success
    again = _materialize(home, spark_resource, instance, "p-3", offset=100)
    assert again.success

    counts = {r.batch: (r["count"], r["max(value)"]) for r in
              read_table(spark, home, "numbers").groupBy("batch").agg(F.count("*").alias("count"),
                                                                     F.max("value")).collect()}
    assert counts == {"p-3": (3, 102), "p-5": (5, 4)}
    metadata = again.asset_materializations_for_node("numbers")[0].metadata
    assert metadata["dagster/row_count"].value == 3 and metadata["delta_version"].value == 2


def test_an_empty_partition_can_be_written_again(home, spark, spark_resource, instance):
    instance.add_dynamic_partitions("parts", ["p-0", "p-2"])
    assert _materialize(home, spark_resource, instance, "p-2").success
    for _ in range(2):  # the second empty write replaces an empty partition: Delta commits nothing
        result = _materialize(home, spark_resource, instance, "p-0")
        assert result.success
        assert result.asset_materializations_for_node("numbers")[0].metadata["dagster/row_count"].value == 0
    assert read_table(spark, home, "numbers").count() == 2


def test_rows_of_another_partition_are_refused_and_nothing_changes(home, spark, spark_resource, instance):
    instance.add_dynamic_partitions("parts", ["p-2"])
    assert _materialize(home, spark_resource, instance, "p-2").success
    result = _materialize(home, spark_resource, instance, "p-2", wrong_batch=True)
    assert not result.success
    assert read_table(spark, home, "numbers").count() == 2


def test_unpartitioned_consumer_reads_every_partition(home, spark, spark_resource, instance):
    instance.add_dynamic_partitions("parts", ["p-2", "p-4"])
    for key in ("p-2", "p-4"):
        assert _materialize(home, spark_resource, instance, key).success
    result = dg.materialize([numbers, numbers_total], selection=[numbers_total], instance=instance,
                            resources={"pyspark": spark_resource,
                                       "delta_io_manager": DeltaSparkIOManager.for_home(spark_resource,
                                                                                        str(home))})
    assert result.success
    assert read_table(spark, home, "numbers_total").first().total == (0 + 1) + (0 + 1 + 2 + 3)


def test_concurrent_writes_to_different_partitions_of_one_table_all_land(home, spark, spark_resource):
    from concurrent.futures import ThreadPoolExecutor

    manager = DeltaSparkIOManager.for_home(spark_resource, str(home))
    partitions = dg.StaticPartitionsDefinition(["p-1", "p-3", "p-4", "p-5"])

    contexts = {key: dg.build_output_context(asset_key="numbers", partition_key=key, asset_partitions_def=partitions,
                                             definition_metadata={"partition_expr": "batch"})
                for key in partitions.get_partition_keys()}

    def write(key: str) -> None:
        manager.handle_output(contexts[key], spark.range(int(key[2:])).withColumn("batch", F.lit(key)))

    write("p-1")  # the table exists before the concurrent writers start
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(write, ["p-3", "p-4", "p-5"]))

    counts = {r.batch: r["count"] for r in read_table(spark, home, "numbers").groupBy("batch").count().collect()}
    assert counts == {"p-1": 1, "p-3": 3, "p-4": 4, "p-5": 5}


def test_rows_of_another_partition_are_refused_on_a_first_write_too(home, spark, spark_resource, instance):
    instance.add_dynamic_partitions("parts", ["p-2", "p-3"])
    assert _materialize(home, spark_resource, instance, "p-2").success
    result = _materialize(home, spark_resource, instance, "p-3", wrong_batch=True)  # p-3 is new: the append path
    assert not result.success
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert "another partition" in error.cause.message
    assert read_table(spark, home, "numbers").count() == 2


def test_a_racing_creation_of_the_same_partition_is_refused(spark, tmp_path):
    from tweet_sentiment.lakehouse.delta_io_manager import _refuse_concurrent_creation

    table = tmp_path / "t"
    for batch in ("b0", "b1", "b1"):  # version 0 exists at the check; 1 is the other writer's, 2 is ours
        spark.range(1).selectExpr(f"'{batch}' AS batch", "id").write.format("delta").mode("append").partitionBy(
            "batch").save(str(table))

    with pytest.raises(RuntimeError, match="concurrently"):
        _refuse_concurrent_creation(table, {"batch": "b1"}, checked_at=0, ours=2)
    _refuse_concurrent_creation(table, {"batch": "b1"}, checked_at=1, ours=2)  # nobody else since our check
    _refuse_concurrent_creation(table, {"batch": "b0"}, checked_at=0, ours=2)


def test_a_rerun_replaces_the_partition_without_version_checksums(home, spark, spark_resource, instance):
    """Where the log has no checksum to list the live files, Spark decides that the partition exists."""
    instance.add_dynamic_partitions("parts", ["p-3"])
    assert _materialize(home, spark_resource, instance, "p-3").success
    for checksum in (HomeLayout.resolve(home).table("numbers") / "_delta_log").glob("*.crc"):
        checksum.unlink()
    assert _materialize(home, spark_resource, instance, "p-3", offset=10).success
    assert sorted(r.value for r in read_table(spark, home, "numbers").collect()) == [10, 11, 12]


def _dates(spark, home) -> dict[str, set[str]]:
    rows = read_table(spark, home, "numbers").groupBy("batch", "ingest_date").count().collect()
    return {b: {r.ingest_date for r in rows if r.batch == b} for b in {r.batch for r in rows}}


def test_a_new_table_is_laid_out_by_ingest_date_and_a_rerun_stays_in_its_date(home, spark, spark_resource, instance):
    from tweet_sentiment.lakehouse.delta_log import partition_columns
    from tweet_sentiment.lakehouse.table_layout import ingest_date_of

    instance.add_dynamic_partitions("parts", ["b20261130T120000-3", "p-2"])
    today_before = ingest_date_of("p-2")  # a key without a date gets the UTC day of its write (midnight may pass)
    for key in ("b20261130T120000-3", "p-2"):
        assert _materialize(home, spark_resource, instance, key).success
    table = HomeLayout.resolve(home).table("numbers")
    assert partition_columns(table) == ["ingest_date"]
    dates = _dates(spark, home)
    assert dates["b20261130T120000-3"] == {"2026-11-30"}
    assert len(dates["p-2"]) == 1 and dates["p-2"] <= {today_before, ingest_date_of("p-2")}

    # As if p-2 had first landed on another day: a re-run must replace its rows in that day's partition.
    spark.sql(f"UPDATE delta.`{table}` SET ingest_date = '2000-01-01' WHERE batch = 'p-2'").collect()
    assert _materialize(home, spark_resource, instance, "p-2", offset=10).success
    assert _dates(spark, home) == {"b20261130T120000-3": {"2026-11-30"}, "p-2": {"2000-01-01"}}
    assert sorted(r.value for r in read_table(spark, home, "numbers").where("batch = 'p-2'").collect()) == [10, 11]

    loaded = DeltaSparkIOManager.for_home(spark_resource, str(home)).load_input(
        dg.build_input_context(asset_key=dg.AssetKey("numbers")))
    assert sorted(loaded.columns) == ["batch", "id", "value"]  # the storage column is not data for consumers


def test_a_table_of_an_older_home_keeps_its_batch_partitioning(home, spark, spark_resource, instance):
    from tweet_sentiment.lakehouse.delta_log import partition_columns

    table = HomeLayout.resolve(home).table("numbers")
    (spark.range(2).selectExpr("'p-2' AS batch", "id", "id AS value").write.format("delta").partitionBy("batch")
     .save(str(table)))
    instance.add_dynamic_partitions("parts", ["p-2", "p-4"])
    assert _materialize(home, spark_resource, instance, "p-4").success
    assert _materialize(home, spark_resource, instance, "p-2", offset=5).success
    assert partition_columns(table) == ["batch"]
    counts = {r.batch: r["count"] for r in read_table(spark, home, "numbers").groupBy("batch").count().collect()}
    assert counts == {"p-2": 2, "p-4": 4}
    assert "ingest_date" not in read_table(spark, home, "numbers").columns
