"""Finding new source files: skip temporary and half-written ones, hash the settled ones, batch them."""

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tweet_sentiment.manifest import Manifest, Registration, SourceFile

SOURCE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
TEMPORARY_SUFFIXES = (".tmp", ".part")


@dataclass(frozen=True)
class DiscoveryLimits:
    """How files become batches, and how much one look may hash."""

    max_files_per_batch: int = 100
    max_bytes_per_batch: int = 256 * 1024 * 1024
    max_bytes_hashed_per_look: int = 2 * 1024 * 1024 * 1024


@dataclass
class Discovery:
    """The outcome of one look at the source folder."""

    registration: Registration
    pending: dict[str, list[int]] = field(default_factory=dict)
    deferred: int = 0

    def cursor(self) -> str:
        """The state the next look needs: files seen but not yet settled (size and mtime at this look)."""
        return json.dumps({"pending": self.pending}, sort_keys=True)


def is_source_file(name: str) -> bool:
    """Tweet files by suffix; hidden and temporary files (`.x`, `*.tmp`, `*.part`) never are."""
    lowered = name.lower()
    return (not name.startswith(".") and not lowered.endswith(TEMPORARY_SUFFIXES)
            and lowered.endswith(SOURCE_SUFFIXES))


def scan_source(root: Path) -> Iterator[SourceFile]:
    """Every candidate file below `root` (hidden folders skipped), with its own size and mtime."""
    if not root.is_dir():
        return
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            if is_source_file(name):
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except FileNotFoundError:  # removed between listing and stat
                    continue
                yield SourceFile(path, stat.st_size, stat.st_mtime_ns)


def sha256_of(path: str) -> str:
    """The SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_cursor(cursor: str | None) -> dict[str, list[int]]:
    """The pending files recorded by the previous look."""
    if not cursor:
        return {}
    return {path: list(seen) for path, seen in json.loads(cursor).get("pending", {}).items()}


def discover(manifest: Manifest, root: Path, cursor: str | None, limits: DiscoveryLimits) -> Discovery:
    """One look: files unchanged since the previous look are hashed, de-duplicated and batched."""
    previous = parse_cursor(cursor)
    known = manifest.known_files()
    pending: dict[str, list[int]] = {}
    settled: list[SourceFile] = []
    for f in scan_source(root):
        if (f.path, f.size, f.mtime_ns) in known:
            continue
        if previous.get(f.path) == [f.size, f.mtime_ns]:
            settled.append(f)
        else:
            pending[f.path] = [f.size, f.mtime_ns]
    settled.sort(key=lambda f: (f.mtime_ns, f.path))
    hashed: list[SourceFile] = []
    budget = limits.max_bytes_hashed_per_look
    for f in settled:
        if hashed and f.size > budget:
            pending[f.path] = [f.size, f.mtime_ns]  # settled already: ready at the next look
            continue
        try:
            digest = sha256_of(f.path)
        except FileNotFoundError:
            continue
        budget -= f.size
        hashed.append(SourceFile(f.path, f.size, f.mtime_ns, digest))
    registration = manifest.register(hashed, limits.max_files_per_batch, limits.max_bytes_per_batch)
    return Discovery(registration, pending, deferred=len(settled) - len(hashed))
