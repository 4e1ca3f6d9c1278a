import dagster as dg

from tweet_sentiment.defs.bronze import bronze
from tweet_sentiment.defs.silver import silver
from tweet_sentiment_tests.helpers import read_table, register_batches

LINES = [
    '{"date": "Mon Apr 06 22:19:45 PDT 2009", "user": "a", "text": "@Bob and @bob love @al_1", '
    '"sentiment": "positive"}',
    '{"date": "Mon Apr 06 22:20:00 PDT 2009", "user": "b", "text": "no mentions here", "sentiment": "negative"}',
    '{"date": "someday", "user": "c", "text": "@carl bad date", "sentiment": "neutral"}',
]


def _metadata(result: dg.ExecuteInProcessResult, node: str, asset: str) -> dict:
    """The metadata of one output of a multi-asset."""
    (event,) = [m for m in result.asset_materializations_for_node(node) if m.asset_key.to_user_string() == asset]
    return event.metadata


def test_silver_explodes_mentions_and_quarantines_bad_dates(resources, instance, home, source_dir, spark):
    (source_dir / "t.json").write_text("\n".join(LINES) + "\n")
    (key,) = register_batches(home, source_dir, instance)

    result = dg.materialize([bronze, silver], partition_key=key, instance=instance, resources=resources)

    mentions = read_table(spark, home, "silver_mentions").orderBy("mention").collect()
    assert [(r.mention, r.cleaned_text, r.sentiment) for r in mentions] == [
        ("al_1", "and love", "positive"), ("bob", "and love", "positive")]
    assert str(mentions[0].timestamp) == "2009-04-07 05:19:45"
    quarantine = read_table(spark, home, "quarantine").where("layer = 'silver'").collect()
    assert [(r.reason, r.batch) for r in quarantine] == [("unparseable_date", key)]
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[("silver_mentions", "mention_format")] and checks[("silver_mentions", "schema")]
    metadata = result.asset_materializations_for_node("silver")[0].metadata
    assert metadata["tweets_with_mentions"].value == 1 and metadata["tweets_without_mentions"].value == 1
    assert (metadata["quarantined"].value, metadata["quarantine_rate"].value) == (1, 0.3333)
    assert [(r.data["mention"], r.data["mentions"]) for r in metadata["top_20_mentions"].records] == [
        ("al_1", 1), ("bob", 1)]
    # Every line was valid JSON: bronze's empty reasons say so instead of a bare header.
    bronze_quarantine = _metadata(result, "bronze", "bronze_quarantine")
    assert bronze_quarantine["reasons"].value == "no quarantined rows"
