from pyspark.sql import functions as F

from tweet_sentiment.transforms.bronze import (
    bronze_rows,
    column_for_key,
    parse_lines,
    quarantine_rows,
    reasons_and_extra_fields,
)
from tweet_sentiment_tests.helpers import lines_frame

GOOD = b'{"date": "Mon Apr 06 22:19:45 PDT 2009", "user": "u1", "text": "hi @Bob", "sentiment": "positive"}\n'
BAD_LINES = {
    b"{not json\n": "malformed_json",
    b'{"date": "x", "user": 5, "text": "t"}\n': "wrong_type:user=BIGINT",
    b"[1, 2]\n": "not_a_json_object",
    b'{"date": "x", "user": "u", "text": "caf\xe9 \xff"}\n': "invalid_utf8",
    b'{"date": "x", "user": "u", "sentiment": "neutral"}\n': "missing_text",
    b'{"date": "x", "text": {"nested": 1}}\n': "wrong_type:text=OBJECT<nested: BIGINT>",
}


def test_every_line_is_either_a_bronze_row_or_quarantined_with_its_reason(spark, tmp_path):
    path = tmp_path / "mixed file+name.json"
    path.write_bytes(GOOD + b"\n   \n" + b"".join(BAD_LINES) + GOOD)
    (tmp_path / "empty.json").write_bytes(b"")
    parsed = parse_lines(lines_frame(spark, path, tmp_path / "empty.json"))

    rows = bronze_rows(parsed, [], F.current_timestamp()).collect()
    quarantined = quarantine_rows(parsed, "bronze", F.current_timestamp()).collect()

    assert len(rows) + len(quarantined) == 2 + len(BAD_LINES)  # blank lines are not records
    assert [r.text for r in rows] == ["hi @Bob", "hi @Bob"]
    assert {r.source_file for r in rows + quarantined} == {str(path)}
    assert sorted(r.reason for r in quarantined) == sorted(BAD_LINES.values())
    assert {r.layer for r in quarantined} == {"bronze"}
    assert any(r.raw_record == "{not json" for r in quarantined)
    (not_utf8,) = [r for r in quarantined if r.reason == "invalid_utf8"]
    assert not_utf8.raw_record is None and bytes(not_utf8.raw_bytes) + b"\n" in BAD_LINES  # the exact bytes
    assert sorted(r.line_number for r in rows) == [1, 10]  # line 2 and 3 are blank


def test_new_source_fields_are_kept_as_columns(spark, tmp_path):
    path = tmp_path / "evolved.json"
    path.write_text('{"text": "a", "lang": "en", "Retweet Count": 3}\n{"text": "b", "batch": "x"}\n'
                    '{"text": "", "only_in_a_bad_line": 1}\n')
    parsed = parse_lines(lines_frame(spark, path))
    reasons, extras = reasons_and_extra_fields(parsed)
    frame = bronze_rows(parsed, extras, F.current_timestamp())

    assert extras == ["Retweet Count", "batch", "lang"]
    assert reasons == {None: 2, "missing_text": 1}
    assert {"retweet_count", "extra_batch", "lang"} <= set(frame.columns)
    assert [(r.lang, r.retweet_count) for r in frame.orderBy("text").collect()] == [("en", "3"), (None, None)]


def test_column_names_are_delta_safe():
    assert column_for_key("Weird Key!") == "weird_key"
    assert column_for_key("1st") == "extra_1st"
    assert column_for_key("source_file") == "extra_source_file"
