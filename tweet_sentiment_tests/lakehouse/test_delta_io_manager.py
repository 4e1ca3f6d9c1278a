import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tweet_sentiment.defs.resources import DeltaSparkResource
from tweet_sentiment.lakehouse.delta_io_manager import ROWS_KEY, DeltaSparkIOManager
from tweet_sentiment.lakehouse.delta_log import latest_version
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


class CountedConfig(dg.Config):
    rows: int
    declared: int | None = None  # the count given with the output, when it is not `rows`


@dg.asset(partitions_def=parts, io_manager_key="delta_io_manager", metadata={"partition_expr": "batch"})
def counted(context: dg.AssetExecutionContext, config: CountedConfig, pyspark: DeltaSparkResource) -> dg.Output:
    """Gives its row count with the output, as the quarantine outputs do."""
    frame = pyspark.spark_session.range(config.rows).withColumn("batch", F.lit(context.partition_key))
    return dg.Output(frame, metadata={ROWS_KEY: config.rows if config.declared is None else config.declared})


def _materialize(home, spark_resource, instance, key, offset=0, wrong_batch=False, assets=(numbers,)):
    return dg.materialize(
        list(assets), partition_key=key, instance=instance, raise_on_error=False,
        run_config={"ops": {"numbers": {"config": {"offset": offset, "wrong_batch": wrong_batch}}}},
        resources={"pyspark": spark_resource,
                   "delta_io_manager": DeltaSparkIOManager.for_home(spark_resource, str(home))})


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


def test_a_new_partition_counted_empty_is_not_written_and_an_emptied_one_is(home, spark, spark_resource, instance):
    instance.add_dynamic_partitions("parts", ["a", "b", "c"])
    io_manager = DeltaSparkIOManager.for_home(spark_resource, str(home))
    path = HomeLayout.resolve(str(home)).table("counted")

    def write(key: str, rows: int, declared: int | None = None) -> dict:
        result = dg.materialize([counted], partition_key=key, instance=instance, run_config={
            "ops": {"counted": {"config": {"rows": rows, "declared": declared}}}},
            resources={"pyspark": spark_resource, "delta_io_manager": io_manager})
        return result.asset_materializations_for_node("counted")[0].metadata

    write("a", 0)  # the table's first write creates it, even empty
    assert latest_version(path) == 0
    write("b", 2)
    # A new partition counted empty is not written: its frame is not even run (here it would give a row).
    skipped = write("c", 1, declared=0)
    assert latest_version(path) == 1
    assert (skipped["delta_version"].value, skipped["dagster/row_count"].value) == (1, 0)
    assert read_table(spark, home, "counted").where("batch = 'c'").count() == 0
    write("b", 0)  # a partition that holds rows is replaced, even by none
    assert latest_version(path) == 2
    assert read_table(spark, home, "counted").count() == 0


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


class CachedConfig(dg.Config):
    extra_column: bool = False


@dg.asset(partitions_def=parts, io_manager_key="delta_io_manager", metadata={"partition_expr": "batch"})
def cached_numbers(context: dg.AssetExecutionContext, config: CachedConfig, pyspark: DeltaSparkResource) -> DataFrame:
    count = int(context.partition_key.split("-")[1])
    frame = pyspark.spark_session.range(count).withColumn("batch", F.lit(context.partition_key))
    if config.extra_column:
        frame = frame.withColumn("extra", F.lit("x"))
    return frame.persist()


class SeenConfig(dg.Config):
    report: str


@dg.asset(partitions_def=parts)
def handed_over(config: SeenConfig, cached_numbers: DataFrame) -> None:
    """Records the rows and columns it was given and whether they came from the cache of the writing step."""
    import json
    from pathlib import Path

    Path(config.report).write_text(json.dumps({
        "columns": cached_numbers.columns, "ids": sorted(r.id for r in cached_numbers.collect()),
        "from_cache": "InMemoryTableScan" in cached_numbers._explain_string(mode="simple")}))


def _handoff(home, spark_resource, instance, key, report, extra_column=False, assets=(cached_numbers, handed_over)):
    import json

    result = dg.materialize(
        list(assets), partition_key=key, instance=instance,
        run_config={"ops": {"cached_numbers": {"config": {"extra_column": extra_column}},
                            **({"handed_over": {"config": {"report": str(report)}}} if handed_over in assets
                               else {})}},
        resources={"pyspark": spark_resource,
                   "delta_io_manager": DeltaSparkIOManager.for_home(spark_resource, str(home))})
    assert result.success
    return json.loads(report.read_text()) if handed_over in assets else None


def test_a_step_reads_what_an_earlier_step_of_its_run_wrote_from_the_cache(home, spark_resource, instance, tmp_path):
    instance.add_dynamic_partitions("parts", ["p-3"])
    seen = _handoff(home, spark_resource, instance, "p-3", tmp_path / "seen.json")
    assert seen == {"columns": ["id", "batch"], "ids": [0, 1, 2], "from_cache": True}


def test_a_table_with_other_columns_is_read_from_delta(home, spark_resource, instance, tmp_path):
    instance.add_dynamic_partitions("parts", ["p-2", "p-3"])
    _handoff(home, spark_resource, instance, "p-2", tmp_path / "unused.json", extra_column=True,
             assets=(cached_numbers,))
    seen = _handoff(home, spark_resource, instance, "p-3", tmp_path / "seen.json")
    # The table carries the column another batch added, NULL in these rows: what a Delta read gives.
    assert seen == {"columns": ["id", "batch", "extra"], "ids": [0, 1, 2], "from_cache": False}


def test_a_frame_is_not_handed_over_after_another_commit(home, spark, spark_resource, tmp_path):
    from dagster import build_input_context, build_output_context

    from tweet_sentiment.lakehouse.delta_log import latest_version

    manager = DeltaSparkIOManager.for_home(spark_resource, str(home))
    metadata = {"partition_expr": "batch"}
    output = build_output_context(asset_key=dg.AssetKey("numbers"), partition_key="p-1", definition_metadata=metadata)
    manager.handle_output(output, spark.range(1).withColumn("batch", F.lit("p-1")).persist())
    key_input = build_input_context(asset_key=dg.AssetKey("numbers"), partition_key="p-1", upstream_output=output)
    assert "InMemoryTableScan" in manager.load_input(key_input)._explain_string(mode="simple")
    frame, version = manager.written_this_run("numbers", "p-1")
    assert version == latest_version(HomeLayout.resolve(home).table("numbers"))
    assert sorted(frame.columns) == ["batch", "id", "ingest_date"]  # as stored, for a step that reads it directly
    other = build_output_context(asset_key=dg.AssetKey("numbers"), partition_key="p-2", definition_metadata=metadata)
    manager.handle_output(other, spark.range(2).withColumn("batch", F.lit("p-2")))
    reread = manager.load_input(key_input)
    assert "InMemoryTableScan" not in reread._explain_string(mode="simple")
    assert manager.written_this_run("numbers", "p-1") is None
    assert [r.id for r in reread.collect()] == [0]
