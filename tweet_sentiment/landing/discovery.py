"""Finding new source files: skip temporary, half-written and empty ones, hash the settled ones, batch them.

The source folder is walked recursively (hidden folders skipped), so a file's path, not only its name, identifies it.
"""

import hashlib
import json
import os
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tweet_sentiment.landing.manifest import Manifest, Registration, SourceFile

SOURCE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
TEMPORARY_SUFFIXES = (".tmp", ".part")


@dataclass(frozen=True)
class DiscoveryLimits:
    """How files become batches, and how much one look may hash."""

    max_files_per_batch: int = 100
    max_bytes_per_batch: int = 256 * 1024 * 1024
    max_bytes_hashed_per_look: int = 2 * 1024 * 1024 * 1024
    # A file whose own mtime is this much older than the look is settled at its first look; writers that pause
    # longer mid-file should write under a temporary name (`*.tmp`, `*.part`, `.x`) and rename.
    quiet_seconds: float = 2.0


@dataclass
class Discovery:
    """The outcome of one look at the source folder."""

    registration: Registration
    pending: dict[str, list[int]] = field(default_factory=dict)
    deferred: int = 0
    empty: list[str] = field(default_factory=list)
    outside_links: list[str] = field(default_factory=list)
    """Links in the source folder that lead outside it, skipped (see `scan_source`)."""

    def cursor(self) -> str:
        """The state the next look needs: files seen but not yet settled (size and mtime at this look), and the
        links skipped (so that each is reported once, and `run` can say which)."""
        state: dict[str, object] = {"pending": self.pending}
        if self.outside_links:
            state["outside_links"] = self.outside_links
        return json.dumps(state, sort_keys=True)


def is_source_file(name: str) -> bool:
    """Tweet files by suffix; hidden and temporary files (`.x`, `*.tmp`, `*.part`) never are."""
    lowered = name.lower()
    return (not name.startswith(".") and not lowered.endswith(TEMPORARY_SUFFIXES)
            and lowered.endswith(SOURCE_SUFFIXES))


def _inside(path: str, root_real: str) -> bool:
    return os.path.commonpath([path, root_real]) == root_real


def scan_source(root: Path, allow_outside_links: bool = False,
                outside_links: list[str] | None = None) -> Iterator[SourceFile]:
    """Every candidate file below `root` (hidden folders skipped), with its own size and mtime. A symlink that
    leads outside `root` is skipped (and appended to `outside_links`) unless `allow_outside_links`: a landing folder
    is often writable by others, and a link would ingest whatever it points at. Linked folders are not entered
    (so a link loop is never followed); dangling and looping file links are skipped."""
    if not root.is_dir():
        return
    root_real = os.path.realpath(root)
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            if is_source_file(name):
                path = os.path.join(folder, name)
                if (not allow_outside_links and os.path.islink(path)
                        and not _inside(os.path.realpath(path), root_real)):
                    if outside_links is not None:
                        outside_links.append(path)
                    continue
                try:
                    stat = os.stat(path)
                except OSError:  # removed between listing and stat, a dangling link, a link loop
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


def outside_links_in(cursor: str | None) -> list[str]:
    """The links the look that wrote `cursor` skipped because they lead outside the source folder."""
    return list(json.loads(cursor).get("outside_links", [])) if cursor else []


def is_settled(f: SourceFile, previous: dict[str, list[int]], now_ns: int, quiet_seconds: float) -> bool:
    """Unchanged since the previous look; or, at its first look, not modified for `quiet_seconds` by its own mtime
    (an mtime in the future, from a skewed clock, is never quiet). A file that moved between looks is not settled."""
    if f.path in previous:
        return previous[f.path] == [f.size, f.mtime_ns]
    return now_ns - f.mtime_ns >= quiet_seconds * 1e9


def unchanged(f: SourceFile) -> bool:
    """The file still has the size and mtime it had when listed (nothing wrote to it while it was hashed)."""
    try:
        stat = os.stat(f.path)
    except FileNotFoundError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (f.size, f.mtime_ns)


def discover(manifest: Manifest, root: Path, cursor: str | None, limits: DiscoveryLimits,
             now_ns: int | None = None, allow_overwrites: bool = False,
             closed: Collection[str] = (), allow_outside_links: bool = False) -> Discovery:
    """One look: settled files (see `is_settled`) are hashed, de-duplicated and batched; the rest wait. `closed`
    names files the OS just reported closed after writing or renamed into the folder (the landing watcher): those
    are settled without waiting for a second look.

    Empty files are not registered: they have nothing to ingest, and a writer that opened a file and has not flushed
    yet would otherwise get its file registered empty and its content treated as a modification.
    """
    previous = parse_cursor(cursor)
    known = manifest.known_files()
    now_ns = time.time_ns() if now_ns is None else now_ns
    pending: dict[str, list[int]] = {}
    settled: list[SourceFile] = []
    empty: list[str] = []
    outside: list[str] = []
    for f in scan_source(root, allow_outside_links, outside):
        status = known.get((f.path, f.size, f.mtime_ns))
        if status is not None and not (status == "modified" and allow_overwrites):
            continue
        if f.size == 0:
            empty.append(f.path)
        elif f.path in closed or is_settled(f, previous, now_ns, limits.quiet_seconds):
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
        if not unchanged(f):  # written to while hashed: not settled after all
            pending[f.path] = [f.size, f.mtime_ns]
            continue
        budget -= f.size
        hashed.append(SourceFile(f.path, f.size, f.mtime_ns, digest))
    registration = manifest.register(hashed, limits.max_files_per_batch, limits.max_bytes_per_batch,
                                     allow_overwrites=allow_overwrites)
    return Discovery(registration, pending, deferred=len(settled) - len(hashed), empty=empty, outside_links=outside)
