import dagster as dg
from pyspark.sql import functions as F

from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment_tests.helpers import read_table, register_batches

GOOD_LINE = '{"date": "Mon Apr 06 22:19:45 PDT 2009", "user": "u%d", "text": "hi @bob %d", "sentiment": "neutral"}\n'


def _materialize(resources, instance, key):
    return dg.materialize([bronze], partition_key=key, instance=instance, resources=resources)


def _checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def _metadata(result: dg.ExecuteInProcessResult, node: str, asset: str) -> dict:
    """The metadata of one output of a multi-asset."""
    (event,) = [m for m in result.asset_materializations_for_node(node) if m.asset_key.to_user_string() == asset]
    return event.metadata

def test_bad_input_is_quarantined_and_every_line_is_accounted_for(resources, instance, home, source_dir, spark):
    good = "".join(GOOD_LINE % (i, i) for i in range(6))
    (source_dir / "mixed.json").write_bytes(
        good.encode() + b"{broken\n" + b'{"text": 42}\n' + b'{"user": "no text"}\n' + b'{"text": "\xff"}\n')
    (source_dir / "empty.json").write_bytes(b"")
    (key,) = register_batches(home, source_dir, instance)

    result = _materialize(resources, instance, key)

    tweets, quarantine = read_table(spark, home, "bronze_tweets"), read_table(spark, home, "quarantine")
    lines_read = 10
    assert tweets.count() == 6 and quarantine.count() == 4
    assert tweets.count() + quarantine.count() == lines_read
    assert {r.text for r in tweets.collect()} == {f"hi @bob {i}" for i in range(6)}
    assert sorted(r.reason for r in quarantine.collect()) == [
        "invalid_utf8", "malformed_json", "missing_text", "wrong_type:text=BIGINT"]
    assert {r.batch for r in quarantine.collect()} == {key} and {r.layer for r in quarantine.collect()} == {"bronze"}
    assert _checks(result) == {"schema": True, "non_null_keys": True, "quarantine_rate": False}
    metadata = result.asset_materializations_for_node("bronze")[0].metadata
    assert metadata["lines_read"].value == lines_read
    assert (metadata["rows"].value, metadata["quarantined"].value, metadata["quarantine_rate"].value) == (6, 4, 0.4)
    # The top tweeters as a table (shown without a click), the picture beside it.
    top = metadata["top_20_tweeters"]
    assert isinstance(top, dg.TableMetadataValue) and len(top.records) == 6
    assert {r.data["tweets"] for r in top.records} == {1} and {r.data["bar"] for r in top.records} == {"\u2588" * 12}
    assert "data:image/png;base64," in metadata["top_20_tweeters_chart"].value
    assert isinstance(metadata["null_counts"], dg.TableMetadataValue)
    quarantine = _metadata(result, "bronze", "bronze_quarantine")
    assert {r.data["reason"]: r.data["count"] for r in quarantine["reasons"].records} == {
        "invalid_utf8": 1, "malformed_json": 1, "missing_text": 1, "wrong_type:text=BIGINT": 1}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {r.data["column"]: r.data["nulls"] for r in checks["non_null_keys"].metadata["null_counts"].records} == {
        "text": 0, "source_file": 0, "processing_time": 0}


def test_rerunning_a_partition_gives_the_same_rows(resources, instance, home, source_dir, spark):
    write_source_files(source_dir, tweets=40, files=2)
    (key,) = register_batches(home, source_dir, instance)

    def snapshot():
        rows = read_table(spark, home, "bronze_tweets").drop("processing_time").collect()
        return sorted(tuple(r) for r in rows)

    assert _materialize(resources, instance, key).success
    first = snapshot()
    assert _materialize(resources, instance, key).success
    assert snapshot() == first and len(first) == 40
    versions = read_table(spark, home, "bronze_tweets").select(F.col("batch")).distinct().count()
    assert versions == 1


def _bronze_texts(spark, home) -> list[str]:
    return sorted(r.text for r in read_table(spark, home, "bronze_tweets").collect())


def test_bronze_reads_what_was_registered_not_what_the_file_became(resources, instance, home, source_dir, spark):
    path = source_dir / "paused.json"
    path.write_text("".join(GOOD_LINE % (i, i) for i in range(3)))
    (key,) = register_batches(home, source_dir, instance)
    with path.open("a") as handle:  # the writer goes on between registration and bronze
        handle.write("".join(GOOD_LINE % (i, i) for i in range(3, 5)))

    assert _materialize(resources, instance, key).success
    assert _bronze_texts(spark, home) == [f"hi @bob {i}" for i in range(3)]
    assert register_batches(home, source_dir, instance) == []  # the grown file is a modification, not new data
    assert _bronze_texts(spark, home) == [f"hi @bob {i}" for i in range(3)]

    path.write_text(GOOD_LINE % (9, 9))  # rewritten: the registered bytes are gone
    result = dg.materialize([bronze], partition_key=key, instance=instance, resources=resources,
                            raise_on_error=False)
    assert not result.success
    assert "no longer holds the" in result.get_step_failure_events()[0].event_specific_data.error.cause.message


def test_allow_overwrites_replaces_a_modified_files_rows_instead_of_adding_them(resources, instance, home,
                                                                                source_dir, spark):
    (source_dir / "a.json").write_text("".join(GOOD_LINE % (i, i) for i in range(3)))
    (source_dir / "b.json").write_text(GOOD_LINE % (7, 7))
    (old,) = register_batches(home, source_dir, instance)
    assert _materialize(resources, instance, old).success
    (source_dir / "a.json").write_text("".join(GOOD_LINE % (i, i) for i in range(10, 15)))

    assert register_batches(home, source_dir, instance) == []  # default: reported, not ingested
    (new,) = register_batches(home, source_dir, instance, allow_overwrites=True)
    manifest = resources["tweet_home"].manifest()
    assert [b.key for b in manifest.batches_to_ingest()] == [old, new]
    for key in (new, old):  # the new version lands, then the old batch re-runs without the old version
        assert _materialize(resources, instance, key).success
    assert _bronze_texts(spark, home) == ["hi @bob 10", "hi @bob 11", "hi @bob 12", "hi @bob 13", "hi @bob 14",
                                          "hi @bob 7"]
    assert manifest.batches_to_ingest() == []


def test_a_renamed_file_is_a_duplicate_and_its_batch_still_re_runs_from_the_new_name(resources, instance, home,
                                                                                     source_dir, spark):
    (source_dir / "a.json").write_text("".join(GOOD_LINE % (i, i) for i in range(2)))
    (key,) = register_batches(home, source_dir, instance)
    (source_dir / "a.json").rename(source_dir / "renamed.json")
    assert register_batches(home, source_dir, instance) == []
    assert [d.duplicate_of for d in resources["tweet_home"].manifest().duplicates()] == [str(source_dir / "a.json")]
    assert _materialize(resources, instance, key).success  # reads the registered bytes from the renamed copy
    assert _bronze_texts(spark, home) == ["hi @bob 0", "hi @bob 1"]


def test_gzip_oversize_and_compressed_archives_are_read_or_quarantined_with_their_reason(resources, instance, home,
                                                                                         source_dir, spark):
    import gzip
    import zipfile

    (source_dir / "packed.json").write_bytes(gzip.compress("".join(GOOD_LINE % (i, i) for i in range(4)).encode()))
    (source_dir / "huge.json").write_text('{"text": "' + "x" * 2000 + '"}\n' + GOOD_LINE % (5, 5))
    with zipfile.ZipFile(source_dir / "archive.json", "w") as handle:
        handle.writestr("inner.json", GOOD_LINE % (6, 6))
    keys = register_batches(home, source_dir, instance, max_files=10)
    run_config = dg.RunConfig(ops={"bronze": {"config": {"max_line_bytes": 1000}}})
    result = dg.materialize([bronze], partition_key=keys[0], instance=instance, resources=resources,
                            run_config=run_config)

    assert result.success
    assert _bronze_texts(spark, home) == [f"hi @bob {i}" for i in (0, 1, 2, 3, 5)]
    quarantined = {r.reason: r for r in read_table(spark, home, "quarantine").collect()}
    assert set(quarantined) == {"oversize_line", "unsupported_compression:zip"}
    assert len(quarantined["oversize_line"].raw_bytes) == 2012 and quarantined["oversize_line"].line_number == 1
    assert bytes(quarantined["unsupported_compression:zip"].raw_bytes) == (source_dir / "archive.json").read_bytes()
