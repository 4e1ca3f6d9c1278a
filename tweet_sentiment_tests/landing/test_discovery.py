import json
import os
from pathlib import Path

import tweet_sentiment.landing.discovery as discovery
from tweet_sentiment.landing.discovery import DiscoveryLimits, discover, is_source_file, parse_cursor
from tweet_sentiment.landing.manifest import Manifest

NOW = 1_800_000_000 * 10**9  # a fixed "now" for every look, so no test depends on how fast files are written
SECOND = 10**9


def _write(path: Path, text: str, mtime_ns: int = NOW) -> None:
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_hidden_and_temporary_files_are_not_sources():
    assert is_source_file("tweets.json") and is_source_file("a.JSONL") and is_source_file("x.json.gz")
    for name in (".hidden.json", "tweets.json.tmp", "tweets.json.part", "notes.txt"):
        assert not is_source_file(name)


def test_a_file_is_ingested_only_once_it_stopped_changing(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    _write(source / "a.json", '{"text": "x"}\n')
    limits = DiscoveryLimits()

    first = discover(manifest, source, None, limits, now_ns=NOW)
    assert first.registration.batches == [] and list(first.pending) == [str(source / "a.json")]

    with open(source / "a.json", "a") as handle:  # still being written, a moment later
        handle.write('{"text": "y"}\n')
    os.utime(source / "a.json", ns=(NOW + SECOND, NOW + SECOND))
    second = discover(manifest, source, first.cursor(), limits, now_ns=NOW + SECOND)
    assert second.registration.batches == [] and len(second.pending) == 1

    third = discover(manifest, source, second.cursor(), limits, now_ns=NOW + SECOND)
    assert [f.path for f in third.registration.batches[0].files] == [str(source / "a.json")]
    assert parse_cursor(third.cursor()) == {}
    assert discover(manifest, source, third.cursor(), limits, now_ns=NOW + SECOND).registration.batches == []


def test_a_file_quiet_for_a_few_seconds_is_ingested_at_its_first_look(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    _write(source / "old.json", '{"text": "x"}\n', mtime_ns=NOW - 2 * SECOND)
    _write(source / "fresh.json", '{"text": "y"}\n', mtime_ns=NOW - SECOND)
    _write(source / "future.json", '{"text": "z"}\n', mtime_ns=NOW + 60 * SECOND)  # a writer with a skewed clock

    found = discover(manifest, source, None, DiscoveryLimits(quiet_seconds=2.0), now_ns=NOW)
    assert [f.path for b in found.registration.batches for f in b.files] == [str(source / "old.json")]
    assert sorted(found.pending) == [str(source / "fresh.json"), str(source / "future.json")]


def test_a_file_the_os_reported_finished_is_settled_at_its_first_look(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    _write(source / "closed.json", '{"text": "x"}\n', mtime_ns=NOW)
    _write(source / "open.json", '{"text": "y"}\n', mtime_ns=NOW)

    found = discover(manifest, source, None, DiscoveryLimits(), now_ns=NOW, closed={str(source / "closed.json")})
    assert [f.path for b in found.registration.batches for f in b.files] == [str(source / "closed.json")]
    assert sorted(found.pending) == [str(source / "open.json")]


def test_a_file_written_to_while_hashed_waits_for_the_next_look(tmp_path, monkeypatch):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    _write(source / "a.json", '{"text": "x"}\n', mtime_ns=NOW - 10 * SECOND)
    hash_of = discovery.sha256_of

    def hash_while_a_writer_appends(path: str) -> str:
        digest = hash_of(path)
        with open(path, "a") as handle:
            handle.write('{"text": "late"}\n')
        return digest

    monkeypatch.setattr(discovery, "sha256_of", hash_while_a_writer_appends)
    found = discover(manifest, source, None, DiscoveryLimits(), now_ns=NOW)
    assert found.registration.batches == [] and list(found.pending) == [str(source / "a.json")]
    assert manifest.known_files() == {}


def test_hash_budget_defers_files_to_the_next_look(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    for i in range(3):
        _write(source / f"{i}.json", "x" * 100 + str(i))
    limits = DiscoveryLimits(max_bytes_hashed_per_look=150)
    cursor = discover(manifest, source, None, limits, now_ns=NOW).cursor()
    looks = []
    for _ in range(3):
        found = discover(manifest, source, cursor, limits, now_ns=NOW)
        cursor = found.cursor()
        looks.append(sum(len(b.files) for b in found.registration.batches))
    assert looks == [1, 1, 1]
    assert json.loads(cursor) == {"pending": {}}


def test_an_empty_file_waits_for_content_so_a_buffered_writer_is_ingested_once(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    _write(source / "buffered.json", "", mtime_ns=NOW - 10 * SECOND)  # opened long ago, nothing flushed yet
    limits = DiscoveryLimits()
    first = discover(manifest, source, None, limits, now_ns=NOW)
    assert first.registration.batches == [] and first.empty == [str(source / "buffered.json")]
    assert manifest.known_files() == {}

    _write(source / "buffered.json", '{"text": "a"}\n{"text": "b"}\n', mtime_ns=NOW + SECOND)  # the writer closed it
    second = discover(manifest, source, first.cursor(), limits, now_ns=NOW + SECOND)
    third = discover(manifest, source, second.cursor(), limits, now_ns=NOW + SECOND)
    assert [f.size for b in third.registration.batches for f in b.files] == [28]
    assert third.registration.modified == []


def test_a_file_that_moved_between_looks_is_not_settled_even_if_its_mtime_is_old(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    _write(source / "paused.json", '{"text": "a"}\n', mtime_ns=NOW)  # written at NOW
    first = discover(manifest, source, None, DiscoveryLimits(), now_ns=NOW)
    assert first.pending
    # The writer adds a line at NOW + 1 s and pauses; the next look comes 5 s later: quiet by mtime, but it moved.
    _write(source / "paused.json", '{"text": "a"}\n{"text": "b"}\n', mtime_ns=NOW + SECOND)
    second = discover(manifest, source, first.cursor(), DiscoveryLimits(), now_ns=NOW + 6 * SECOND)
    assert second.registration.batches == [] and second.pending
    third = discover(manifest, source, second.cursor(), DiscoveryLimits(), now_ns=NOW + 7 * SECOND)
    assert [f.size for b in third.registration.batches for f in b.files] == [28]


def test_a_modified_file_is_reported_once_and_allow_overwrites_takes_it(tmp_path):
    manifest, source = Manifest(tmp_path / "m.sqlite"), tmp_path / "src"
    source.mkdir()
    _write(source / "a.json", '{"text": "a"}\n', mtime_ns=NOW - 10 * SECOND)
    (old,) = discover(manifest, source, None, DiscoveryLimits(), now_ns=NOW).registration.batches
    _write(source / "a.json", '{"text": "a"}\n{"text": "more"}\n', mtime_ns=NOW)
    looks = [discover(manifest, source, None, DiscoveryLimits(), now_ns=NOW + 10 * SECOND) for _ in range(2)]
    assert [len(look.registration.modified) for look in looks] == [1, 0]  # recorded once, not at every look

    taken = discover(manifest, source, None, DiscoveryLimits(), now_ns=NOW + 10 * SECOND, allow_overwrites=True)
    (new,) = taken.registration.batches
    assert new.files[0].size == 31 and taken.registration.revised_batches == [old.key]


def test_links_that_lead_outside_the_source_folder_are_skipped_and_reported(tmp_path):
    source, outside = tmp_path / "src", tmp_path / "elsewhere"
    (source / "sub").mkdir(parents=True)
    outside.mkdir()
    _write(outside / "secret.json", '{"text": "not for ingestion"}\n', mtime_ns=NOW - 10 * SECOND)
    _write(source / "sub" / "real.json", '{"text": "a tweet"}\n', mtime_ns=NOW - 10 * SECOND)
    (source / "passwd.json").symlink_to(outside / "secret.json")
    (source / "inside.json").symlink_to(source / "sub" / "real.json")  # a link within the folder is a file of it
    (source / "linked-folder").symlink_to(outside, target_is_directory=True)  # folders are never entered

    found = discover(Manifest(tmp_path / "m.sqlite"), source, None, DiscoveryLimits(), now_ns=NOW)
    registered = sorted(f.path for b in found.registration.batches for f in b.files)
    assert found.outside_links == [str(source / "passwd.json")]
    assert discovery.outside_links_in(found.cursor()) == [str(source / "passwd.json")]
    # inside.json has the content of sub/real.json: the manifest takes one of the two, the other is a duplicate.
    assert registered == [str(source / "inside.json")] and len(found.registration.duplicates) == 1

    allowed = discover(Manifest(tmp_path / "m2.sqlite"), source, None, DiscoveryLimits(), now_ns=NOW,
                       allow_outside_links=True)
    assert allowed.outside_links == []
    assert str(source / "passwd.json") in {f.path for b in allowed.registration.batches for f in b.files}


def test_link_loops_and_dangling_links_are_skipped(tmp_path):
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    _write(source / "ok.json", '{"text": "x"}\n', mtime_ns=NOW - 10 * SECOND)
    (source / "loop.json").symlink_to(source / "loop.json")
    (source / "a.json").symlink_to(source / "b.json")
    (source / "b.json").symlink_to(source / "a.json")
    (source / "gone.json").symlink_to(source / "missing.json")
    (source / "sub" / "up").symlink_to(source, target_is_directory=True)  # a folder loop

    assert [f.path for f in discovery.scan_source(source)] == [str(source / "ok.json")]
