"""The durable manifest of source files and the batches they went into (SQLite under the home folder)."""

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch TEXT PRIMARY KEY,
    run_key TEXT NOT NULL UNIQUE,
    file_count INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ingested', 'duplicate')),
    batch TEXT REFERENCES batches (batch),
    duplicate_of TEXT,
    registered_at TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
);
CREATE INDEX IF NOT EXISTS files_by_hash ON files (sha256, status);
CREATE INDEX IF NOT EXISTS files_by_batch ON files (batch);
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

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class Duplicate:
    """A file skipped because its content was already ingested (or is new twice in the same tick)."""

    file: SourceFile
    duplicate_of: str


@dataclass(frozen=True)
class Registration:
    """What one registration added to the manifest."""

    batches: list[Batch]
    duplicates: list[Duplicate]


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
    """Reads and writes the manifest; every registration is one SQLite transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            yield conn
        finally:
            conn.close()

    def known_files(self) -> set[tuple[str, int, int]]:
        """(path, size, mtime_ns) of every file already registered, ingested or skipped."""
        with self._connect() as conn:
            return {tuple(row) for row in conn.execute("SELECT path, size, mtime_ns FROM files")}

    def register(self, files: Sequence[SourceFile], max_files: int, max_bytes: int,
                 now: datetime | None = None) -> Registration:
        """Skip duplicate content, group the rest into batches and record both, atomically."""
        created = now or datetime.now(timezone.utc)
        stamp = created.isoformat()
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                fresh, duplicates = self._split_duplicates(conn, files)
                batches = []
                for group in plan_batches(fresh, max_files, max_bytes):
                    batch = Batch(batch_key_for(group, created), f"batch:{content_digest(group)}", tuple(group))
                    conn.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)",
                                 (batch.key, batch.run_key, len(group), batch.total_bytes, stamp))
                    conn.executemany(
                        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, 'ingested', ?, NULL, ?)",
                        [(f.path, f.size, f.mtime_ns, f.sha256, batch.key, stamp) for f in group])
                    batches.append(batch)
                conn.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, 'duplicate', NULL, ?, ?)",
                    [(d.file.path, d.file.size, d.file.mtime_ns, d.file.sha256, d.duplicate_of, stamp)
                     for d in duplicates])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return Registration(batches, duplicates)

    @staticmethod
    def _split_duplicates(conn: sqlite3.Connection,
                          files: Sequence[SourceFile]) -> tuple[list[SourceFile], list[Duplicate]]:
        fresh: list[SourceFile] = []
        duplicates: list[Duplicate] = []
        seen: dict[str, str] = {}
        for f in files:
            row = conn.execute("SELECT path FROM files WHERE sha256 = ? AND status = 'ingested' LIMIT 1",
                               (f.sha256,)).fetchone()
            original = row[0] if row else seen.get(f.sha256)
            if original is not None:
                duplicates.append(Duplicate(f, original))
            else:
                seen[f.sha256] = f.path
                fresh.append(f)
        return fresh, duplicates

    def batch_files(self, batch: str) -> list[SourceFile]:
        """The files of one batch, in path order; raises if the batch is unknown."""
        with self._connect() as conn:
            rows = conn.execute("SELECT path, size, mtime_ns, sha256 FROM files WHERE batch = ? "
                                "AND status = 'ingested' ORDER BY path", (batch,)).fetchall()
        if not rows:
            raise KeyError(f"batch {batch!r} is not in the manifest at {self.path}")
        return [SourceFile(*row) for row in rows]

    def batches(self) -> list[Batch]:
        """Every batch, oldest first."""
        with self._connect() as conn:
            keys = conn.execute("SELECT batch, run_key FROM batches ORDER BY created_at, batch").fetchall()
        return [Batch(key, run_key, tuple(self.batch_files(key))) for key, run_key in keys]

    def batch_run_keys(self) -> dict[str, str]:
        """Batch key to run key, for every batch."""
        with self._connect() as conn:
            return dict(conn.execute("SELECT batch, run_key FROM batches"))

    def duplicates(self) -> list[Duplicate]:
        """Every file skipped as a duplicate."""
        with self._connect() as conn:
            rows = conn.execute("SELECT path, size, mtime_ns, sha256, duplicate_of FROM files "
                                "WHERE status = 'duplicate' ORDER BY path").fetchall()
        return [Duplicate(SourceFile(*row[:4]), row[4]) for row in rows]
