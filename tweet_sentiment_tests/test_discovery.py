import json
import os

from tweet_sentiment.discovery import DiscoveryLimits, discover, is_source_file, parse_cursor
from tweet_sentiment.manifest import Manifest


def test_hidden_and_temporary_files_are_not_sources():
    assert is_source_file("tweets.json") and is_source_file("a.JSONL") and is_source_file("x.json.gz")
    for name in (".hidden.json", "tweets.json.tmp", "tweets.json.part", "notes.txt"):
        assert not is_source_file(name)


def test_a_file_is_ingested_only_once_it_stopped_changing(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    (source / "a.json").write_text('{"text": "x"}\n')
    limits = DiscoveryLimits()

    first = discover(manifest, source, None, limits)
    assert first.registration.batches == [] and list(first.pending) == [str(source / "a.json")]

    with open(source / "a.json", "a") as handle:  # still being written
        handle.write('{"text": "y"}\n')
    os.utime(source / "a.json", ns=(1, 2))
    second = discover(manifest, source, first.cursor(), limits)
    assert second.registration.batches == [] and len(second.pending) == 1

    third = discover(manifest, source, second.cursor(), limits)
    assert [f.path for f in third.registration.batches[0].files] == [str(source / "a.json")]
    assert parse_cursor(third.cursor()) == {}
    assert discover(manifest, source, third.cursor(), limits).registration.batches == []


def test_hash_budget_defers_files_to_the_next_look(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    for i in range(3):
        (source / f"{i}.json").write_text("x" * 100 + str(i))
    limits = DiscoveryLimits(max_bytes_hashed_per_look=150)
    cursor = discover(manifest, source, None, limits).cursor()
    looks = []
    for _ in range(3):
        found = discover(manifest, source, cursor, limits)
        cursor = found.cursor()
        looks.append(sum(len(b.files) for b in found.registration.batches))
    assert looks == [1, 1, 1]
    assert json.loads(cursor) == {"pending": {}}
