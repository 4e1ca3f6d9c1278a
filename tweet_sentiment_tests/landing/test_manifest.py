import pytest

from tweet_sentiment.landing.manifest import Manifest, SourceFile, batch_key_for, content_digest, plan_batches


def _file(name: str, size: int = 10, sha: str | None = None) -> SourceFile:
    return SourceFile(f"/src/{name}", size, 1, sha or f"sha-{name}")


def test_plan_batches_respects_file_and_byte_limits():
    files = [_file(str(i), size=40) for i in range(7)]
    assert [len(g) for g in plan_batches(files, max_files=3, max_bytes=10_000)] == [3, 3, 1]
    assert [len(g) for g in plan_batches(files, max_files=100, max_bytes=100)] == [2, 2, 2, 1]
    # A file larger than the byte limit still gets a batch of its own.
    assert [len(g) for g in plan_batches([_file("big", size=500)], 10, 100)] == [1]


def test_batch_keys_are_safe_and_run_keys_depend_on_content():
    files = [_file("a,b|c")]
    from datetime import datetime, timezone

    key = batch_key_for(files, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert key.startswith("b20260102T030405-") and not set(key) & set(",/|: ")
    assert content_digest(files) != content_digest([_file("a,b|c", sha="other")])


def test_register_skips_duplicate_content_and_records_it(tmp_path):
    manifest = Manifest(tmp_path / "m.sqlite")
    first = manifest.register([_file("a"), _file("b"), _file("a-copy", sha="sha-a")], max_files=1, max_bytes=100)
    assert [len(b.files) for b in first.batches] == [1, 1]
    assert [(d.file.path, d.duplicate_of) for d in first.duplicates] == [("/src/a-copy", "/src/a")]

    again = manifest.register([_file("c", sha="sha-b")], max_files=10, max_bytes=100)
    assert again.batches == [] and again.duplicates[0].duplicate_of == "/src/b"
    assert len(manifest.known_files()) == 4
    assert [f.path for f in manifest.batch_files(first.batches[0].key)] == ["/src/a"]


def test_unknown_batch_is_a_clear_error(tmp_path):
    with pytest.raises(KeyError, match="not in the manifest"):
        Manifest(tmp_path / "m.sqlite").batch_files("nope")
