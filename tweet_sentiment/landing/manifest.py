"""The durable manifest of source files and the batches they went into (SQLite under the home folder).

Every version of a source file (path, size, mtime) gets one row, whatever became of it:

| status     | meaning |
| ---------- | ------- |
| ingested   | part of `batch`; bronze reads exactly its `size` bytes and checks their SHA-256 |
| duplicate  | same content as `duplicate_of`, which was ingested; skipped |
| modified   | a new version of an ingested path, not re-ingested (`allow_overwrites` off); `batch`: the old one |
| unchanged  | a new mtime with the same content as the ingested version (a `touch`); nothing to do |
| superseded | an ingested version replaced by a newer one (`allow_overwrites` on); its batch is re-run without it |

A batch's `revision` goes up whenever one of its files is superseded; bronze records the revision it read
(`ingested_revision`), so a batch whose bronze is behind its revision (or never ran) is one to run.
"""

import hashlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tweet_sentiment.locks import file_lock

SCHEMA_VERSION = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch TEXT PRIMARY KEY,
    run_key TEXT NOT NULL UNIQUE,
    file_count INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    ingested_revision INTEGER
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ingested', 'duplicate', 'modified', 'unchanged', 'superseded')),
    batch TEXT REFERENCES batches (batch),
    duplicate_of TEXT,
    registered_at TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
);
CREATE INDEX IF NOT EXISTS files_by_hash ON files (sha256, status);
CREATE INDEX IF NOT EXISTS files_by_batch ON files (batch);
CREATE INDEX IF NOT EXISTS files_by_path ON files (path, status);
CREATE TABLE IF NOT EXISTS run_claims (
    run_key TEXT PRIMARY KEY,
    claimed_by TEXT NOT NULL,
    claimed_at REAL NOT NULL
);
"""
# Homes made before file versions were tracked: the status check had two values and batches had no revisions. Their
# batches count as ingested; one whose layers never all materialized is still retried (`run` checks Dagster).
_MIGRATE_FROM_1 = """
ALTER TABLE files RENAME TO files_v1;
DROP INDEX IF EXISTS files_by_hash;
DROP INDEX IF EXISTS files_by_batch;
{schema}
INSERT INTO files SELECT * FROM files_v1;
DROP TABLE files_v1;
ALTER TABLE batches ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN ingested_revision INTEGER;
UPDATE batches SET ingested_revision = 0;
"""


@dataclass(frozen=True)
class SourceFile:
    """A file seen in the source folder, with its content hash once computed."""

    path: str
    size: int
    mtime_ns: int
    sha256: str = ""


@dataclass(frozen=True)
class Batch:
    """A group of source files ingested together as one partition."""

    key: str
    run_key: str
    files: tuple[SourceFile, ...]
    revision: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def revision_run_key(self) -> str:
        """The run key of this revision: a re-run after a superseded file is a new run, a repeat request is not."""
        return self.run_key if self.revision == 0 else f"{self.run_key}:r{self.revision}"


@dataclass(frozen=True)
class Duplicate:
    """A file skipped because its content was already ingested (or is new twice in the same registration)."""

    file: SourceFile
    duplicate_of: str


@dataclass(frozen=True)
class Modified:
    """A new version of a path that was ingested before, and the batch holding the ingested version."""

    file: SourceFile
    batch: str
    replaced: bool


@dataclass
class Registration:
    """What one registration added to the manifest."""

    batches: list[Batch] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    modified: list[Modified] = field(default_factory=list)
    unchanged: list[SourceFile] = field(default_factory=list)
    revised_batches: list[str] = field(default_factory=list)
    taken_by_another: list[SourceFile] = field(default_factory=list)


def content_digest(files: Sequence[SourceFile]) -> str:
    """A digest of a batch's paths and content hashes: the basis of its partition key and run key."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    return digest.hexdigest()


def batch_key_for(files: Sequence[SourceFile], created: datetime) -> str:
    """A partition key safe for the UI and for paths: creation time plus a content digest."""
    return f"b{created:%Y%m%dT%H%M%S}-{content_digest(files)[:10]}"


def plan_batches(files: Sequence[SourceFile], max_files: int, max_bytes: int) -> list[list[SourceFile]]:
    """Group files (in the given order) into batches of at most `max_files` files and about `max_bytes` bytes."""
    groups: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    current_bytes = 0
    for f in files:
        if current and (len(current) >= max_files or current_bytes + f.size > max_bytes):
            groups.append(current)
            current, current_bytes = [], 0
        current.append(f)
        current_bytes += f.size
    if current:
        groups.append(current)
    return groups


class Manifest:
    """Reads and writes the manifest; every registration is one SQLite write transaction, so two registrars (the
    daemon's sensor and a `tweet-sentiment run`) never both take a file: the later one skips what the first took."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Switching to WAL needs the database to itself and SQLite answers "locked" at once instead of waiting, so
        # processes opening the manifest together take turns.
        with file_lock(path.with_name(path.name + ".lock"), what="opening the manifest"), self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._migrate(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has_files = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'files'").fetchone() is not None
        if version == 0 and has_files:
            for statement in _MIGRATE_FROM_1.format(schema=_SCHEMA).split(";"):
                if statement.strip():
                    conn.execute(statement)
        elif version < SCHEMA_VERSION:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        if version < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def known_files(self) -> dict[tuple[str, int, int], str]:
        """(path, size, mtime_ns) -> status of every file version already registered."""
        with self._connect() as conn:
            rows = conn.execute("SELECT path, size, mtime_ns, status FROM files")
            return {(p, s, m): status for p, s, m, status in rows}

    def register(self, files: Sequence[SourceFile], max_files: int, max_bytes: int, allow_overwrites: bool = False,
                 now: datetime | None = None) -> Registration:
        """Sort hashed files into new, duplicate, modified and unchanged; batch the new ones; all in one transaction.

        A file another registrar took since it was listed is skipped. With `allow_overwrites`, a new version of an
        ingested path is ingested, and the batch that held the old version gets a new revision (re-run without it).
        """
        created = now or datetime.now(UTC)
        stamp = created.isoformat()
        outcome = Registration()
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                fresh = self._classify(conn, files, allow_overwrites, outcome, stamp)
                for group in plan_batches(fresh, max_files, max_bytes):
                    batch = Batch(batch_key_for(group, created), f"batch:{content_digest(group)}", tuple(group))
                    conn.execute("INSERT INTO batches (batch, run_key, file_count, total_bytes, created_at) "
                                 "VALUES (?, ?, ?, ?, ?)",
                                 (batch.key, batch.run_key, len(group), batch.total_bytes, stamp))
                    for f in group:
                        conn.execute("INSERT INTO files VALUES (?, ?, ?, ?, 'ingested', ?, NULL, ?) "
                                     "ON CONFLICT (path, size, mtime_ns) DO UPDATE SET status = 'ingested', "
                                     "batch = excluded.batch, registered_at = excluded.registered_at "
                                     "WHERE files.status = 'modified'",
                                     (f.path, f.size, f.mtime_ns, f.sha256, batch.key, stamp))
                    outcome.batches.append(batch)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return outcome

    def _classify(self, conn: sqlite3.Connection, files: Sequence[SourceFile], allow_overwrites: bool,
                  outcome: Registration, stamp: str) -> list[SourceFile]:
        """Record duplicates, modified and unchanged versions; return the files to batch (in the given order)."""
        fresh: list[SourceFile] = []
        seen: dict[str, str] = {}
        for f in files:
            row = conn.execute("SELECT status FROM files WHERE path = ? AND size = ? AND mtime_ns = ?",
                               (f.path, f.size, f.mtime_ns)).fetchone()
            if row is not None and not (row[0] == "modified" and allow_overwrites):
                outcome.taken_by_another.append(f)
                continue
            previous = conn.execute("SELECT sha256, batch FROM files WHERE path = ? AND status = 'ingested' AND NOT "
                                    "(size = ? AND mtime_ns = ?)", (f.path, f.size, f.mtime_ns)).fetchone()
            if previous is not None and previous[0] == f.sha256:
                self._record(conn, f, "unchanged", previous[1], None, stamp)
                outcome.unchanged.append(f)
                continue
            if previous is not None:
                outcome.modified.append(Modified(f, previous[1], replaced=allow_overwrites))
                if not allow_overwrites:
                    self._record(conn, f, "modified", previous[1], None, stamp)
                    continue
                self._supersede(conn, f.path, previous[1])
                outcome.revised_batches.append(previous[1])
            original = conn.execute("SELECT path FROM files WHERE sha256 = ? AND status = 'ingested' LIMIT 1",
                                    (f.sha256,)).fetchone()
            duplicate_of = original[0] if original else seen.get(f.sha256)
            if duplicate_of is not None:
                self._record(conn, f, "duplicate", None, duplicate_of, stamp)
                outcome.duplicates.append(Duplicate(f, duplicate_of))
                continue
            seen[f.sha256] = f.path
            fresh.append(f)
        return fresh

    @staticmethod
    def _record(conn: sqlite3.Connection, f: SourceFile, status: str, batch: str | None, duplicate_of: str | None,
                stamp: str) -> None:
        conn.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path, size, mtime_ns) DO "
                     "UPDATE SET status = excluded.status, batch = excluded.batch, "
                     "duplicate_of = excluded.duplicate_of",
                     (f.path, f.size, f.mtime_ns, f.sha256, status, batch, duplicate_of, stamp))

    @staticmethod
    def _supersede(conn: sqlite3.Connection, path: str, batch: str) -> None:
        conn.execute("UPDATE files SET status = 'superseded' WHERE path = ? AND batch = ? AND status = 'ingested'",
                     (path, batch))
        conn.execute("UPDATE batches SET revision = revision + 1 WHERE batch = ?", (batch,))

    def batch_files(self, batch: str) -> list[SourceFile]:
        """The files a batch ingests now (superseded versions left out), in path order; raises if it is unknown."""
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM batches WHERE batch = ?", (batch,)).fetchone() is None:
                raise KeyError(f"batch {batch!r} is not in the manifest at {self.path}")
            rows = conn.execute("SELECT path, size, mtime_ns, sha256 FROM files WHERE batch = ? "
                                "AND status = 'ingested' ORDER BY path", (batch,)).fetchall()
        return [SourceFile(*row) for row in rows]

    def batch(self, key: str) -> Batch:
        """One batch with its current files and revision."""
        with self._connect() as conn:
            row = conn.execute("SELECT run_key, revision FROM batches WHERE batch = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(f"batch {key!r} is not in the manifest at {self.path}")
        return Batch(key, row[0], tuple(self.batch_files(key)), row[1])

    def batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        with self._connect() as conn:
            keys = [row[0] for row in conn.execute("SELECT batch FROM batches ORDER BY created_at, batch")]
        return [self.batch(key) for key in keys]

    def batches_to_ingest(self) -> list[Batch]:
        """Batches whose bronze never ran, or ran on an earlier revision (a file of theirs was superseded since)."""
        with self._connect() as conn:
            keys = [row[0] for row in conn.execute(
                "SELECT batch FROM batches WHERE ingested_revision IS NULL OR ingested_revision < revision "
                "ORDER BY created_at, batch")]
        return [self.batch(key) for key in keys]

    def claim_run(self, run_key: str, by: str, stale_after_s: float, now: float | None = None) -> bool:
        """Take the right to request the run `run_key` (the sensor and the landing watcher both may): True for the
        first claimant and for it again (a requester's repeated request is deduplicated by its run key), and for
        anyone once a claim is `stale_after_s` old (its claimant died before the run existed; callers check Dagster
        for the run first)."""
        now = time.time() if now is None else now
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT claimed_by, claimed_at FROM run_claims WHERE run_key = ?",
                                   (run_key,)).fetchone()
                taken = row is None or row[0] == by or now - row[1] >= stale_after_s
                if taken:
                    conn.execute("INSERT OR REPLACE INTO run_claims VALUES (?, ?, ?)",
                                 (run_key, by, row[1] if row is not None and row[0] == by else now))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return taken

    def release_claim(self, run_key: str, by: str) -> None:
        """Give up `by`'s claim on `run_key` (its request failed), so that another requester takes it now."""
        with self._connect() as conn:
            conn.execute("DELETE FROM run_claims WHERE run_key = ? AND claimed_by = ?", (run_key, by))

    def mark_ingested(self, batch: str, revision: int) -> None:
        """Bronze wrote `batch` as of `revision` (never moves backwards)."""
        with self._connect() as conn:
            conn.execute("UPDATE batches SET ingested_revision = MAX(COALESCE(ingested_revision, -1), ?) "
                         "WHERE batch = ?", (revision, batch))

    def copies_of(self, f: SourceFile) -> list[str]:
        """Other paths registered with the same content (duplicates of it): where to read a file that moved."""
        with self._connect() as conn:
            rows = conn.execute("SELECT DISTINCT path FROM files WHERE sha256 = ? AND size = ? AND path != ? "
                                "ORDER BY registered_at DESC", (f.sha256, f.size, f.path)).fetchall()
        return [row[0] for row in rows]

    def duplicates(self) -> list[Duplicate]:
        """Every file skipped as a duplicate."""
        with self._connect() as conn:
            rows = conn.execute("SELECT path, size, mtime_ns, sha256, duplicate_of FROM files "
                                "WHERE status = 'duplicate' ORDER BY path").fetchall()
        return [Duplicate(SourceFile(*row[:4]), row[4]) for row in rows]

    def modified(self) -> list[Modified]:
        """Paths whose current version was left out because the path was ingested before with other content."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT path, size, mtime_ns, sha256, batch FROM files AS f WHERE status = 'modified' AND "
                "registered_at = (SELECT MAX(registered_at) FROM files AS g WHERE g.path = f.path) "
                "ORDER BY registered_at DESC, path").fetchall()
        return [Modified(SourceFile(*row[:4]), row[4], replaced=False) for row in rows]
