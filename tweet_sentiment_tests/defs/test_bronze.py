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
    assert "data:image/png;base64," in metadata["top_20_tweeters"].value


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
