from datetime import UTC

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
    from datetime import datetime

    key = batch_key_for(files, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
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


def _register_in_process(args: tuple) -> list[str]:
    path, files, barrier = args
    barrier.wait()  # both registrars start together
    registration = Manifest(path).register(files, max_files=10, max_bytes=10_000)
    return [b.key for b in registration.batches]


def test_two_registrars_racing_never_take_a_file_twice_or_overwrite_each_other(tmp_path):
    import multiprocessing

    files = [_file(f"f{i}") for i in range(20)]
    path = tmp_path / "m.sqlite"
    context = multiprocessing.get_context("spawn")
    with context.Manager() as sync:
        barrier = sync.Barrier(2)
        with context.Pool(2) as pool:
            results = pool.map(_register_in_process, [(path, files, barrier), (path, files, barrier)])
            pool.close()
            pool.join()  # the workers exit on their own; the with-block's terminate() would rely on SIGTERM

    manifest = Manifest(path)
    assert sorted(len(r) for r in results) == [0, 2]  # one registrar batched everything, the other skipped it all
    assert sum(len(manifest.batch_files(key)) for r in results for key in r) == 20
    assert set(manifest.known_files().values()) == {"ingested"} and manifest.duplicates() == []


def test_a_new_version_of_an_ingested_file_is_reported_not_ingested_by_default(tmp_path):
    manifest = Manifest(tmp_path / "m.sqlite")
    (old,) = manifest.register([_file("a")], 10, 1000).batches
    grown = SourceFile("/src/a", 20, 2, "sha-a-grown")
    touched = SourceFile("/src/a", 10, 3, "sha-a")

    outcome = manifest.register([grown], 10, 1000)
    assert outcome.batches == [] and [(m.file, m.batch, m.replaced) for m in outcome.modified] == [
        (grown, old.key, False)]
    assert [m.file for m in manifest.modified()] == [grown]
    assert manifest.batches_to_ingest() == [manifest.batch(old.key)]  # bronze never ran: nothing else changed

    manifest.mark_ingested(old.key, 0)
    again = manifest.register([touched], 10, 1000)  # the original content again, under a new mtime
    assert again.batches == [] and again.unchanged == [touched] and manifest.modified() == []
    assert manifest.batches_to_ingest() == []


def test_with_allow_overwrites_a_new_version_replaces_the_old_one(tmp_path):
    manifest = Manifest(tmp_path / "m.sqlite")
    (old,) = manifest.register([_file("a"), _file("b")], 10, 1000).batches
    manifest.mark_ingested(old.key, 0)
    modified = SourceFile("/src/a", 30, 2, "sha-a-v2")
    assert manifest.register([modified], 10, 1000).modified[0].replaced is False  # off: reported only

    outcome = manifest.register([modified], 10, 1000, allow_overwrites=True)  # the same version, now allowed
    (new,) = outcome.batches
    assert new.files == (modified,) and outcome.revised_batches == [old.key]
    assert [f.path for f in manifest.batch_files(old.key)] == ["/src/b"]  # the old batch re-runs without it
    assert manifest.batch(old.key).revision == 1
    assert [b.key for b in manifest.batches_to_ingest()] == [old.key, new.key]
    assert manifest.batch(old.key).revision_run_key == f"{old.run_key}:r1"
    assert manifest.modified() == []


def test_a_home_made_before_file_versions_is_migrated(tmp_path):
    import sqlite3

    path = tmp_path / "m.sqlite"
    with sqlite3.connect(path) as conn:  # the schema of the previous release
        conn.executescript("""
            CREATE TABLE batches (batch TEXT PRIMARY KEY, run_key TEXT NOT NULL UNIQUE, file_count INTEGER NOT NULL,
                                  total_bytes INTEGER NOT NULL, created_at TEXT NOT NULL);
            CREATE TABLE files (path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                                sha256 TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('ingested', 'duplicate')),
                                batch TEXT REFERENCES batches (batch), duplicate_of TEXT, registered_at TEXT NOT NULL,
                                PRIMARY KEY (path, size, mtime_ns));
            INSERT INTO batches VALUES ('b1', 'batch:x', 1, 10, '2026-01-01');
            INSERT INTO files VALUES ('/src/a', 10, 1, 'sha-a', 'ingested', 'b1', NULL, '2026-01-01');
        """)
    manifest = Manifest(path)
    assert [f.path for f in manifest.batch_files("b1")] == ["/src/a"] and manifest.batches_to_ingest() == []
    outcome = manifest.register([SourceFile("/src/a", 11, 2, "sha-a2")], 10, 1000)
    assert [m.batch for m in outcome.modified] == ["b1"]  # the new statuses work on the migrated table


def test_a_run_is_claimed_by_one_requester_until_the_claim_is_stale_or_released(tmp_path):
    manifest = Manifest(tmp_path / "m.sqlite")
    assert manifest.claim_run("batch:1", "watcher", 60, now=1000)
    assert not manifest.claim_run("batch:1", "sensor", 60, now=1030)
    assert manifest.claim_run("batch:1", "watcher", 60, now=1059)  # its own repeated request
    assert manifest.claim_run("batch:1", "sensor", 60, now=1060)  # stale: the watcher never made the run
    assert not manifest.claim_run("batch:1", "watcher", 60, now=1061)

    manifest.release_claim("batch:1", "sensor")
    assert manifest.claim_run("batch:1", "watcher", 60, now=1062)
    assert manifest.claim_run("batch:2", "sensor", 60, now=1062)  # claims are per run
