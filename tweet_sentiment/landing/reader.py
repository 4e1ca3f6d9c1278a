"""Reading exactly what was registered: each file's registered bytes, checked against their SHA-256, split into lines.

Bronze never reads a source file as it is now, only as it was when the manifest took it: a file that grew since is
read up to its registered size, and one whose registered bytes changed fails loudly instead of ingesting other data.
Gzip files are recognised by their magic number, whatever their name; other compressed formats are quarantined
whole with a reason that names the format. Lines that are not UTF-8 keep their exact bytes.
"""

import gzip
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from tweet_sentiment.landing.manifest import SourceFile

DEFAULT_MAX_LINE_BYTES = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
OTHER_COMPRESSION = {b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd", b"PK\x03\x04": "zip", b"\xfd7zXZ\x00": "xz"}
LINE_SCHEMA = pa.schema([
    ("source_file", pa.string()), ("line_number", pa.int64()), ("value", pa.string()),
    ("raw_bytes", pa.binary()), ("read_error", pa.string())])


class SourceChangedError(RuntimeError):
    """A registered file no longer holds the bytes that were registered (rewritten or truncated since)."""


@dataclass
class Lines:
    """Columns of the lines read, in LINE_SCHEMA order."""

    source_file: list[str]
    line_number: list[int]
    value: list[str | None]
    raw_bytes: list[bytes | None]
    read_error: list[str | None]

    def add(self, path: str, number: int, value: str | None, raw: bytes | None, error: str | None) -> None:
        self.source_file.append(path)
        self.line_number.append(number)
        self.value.append(value)
        self.raw_bytes.append(raw)
        self.read_error.append(error)

    def table(self) -> pa.Table:
        return pa.table([self.source_file, self.line_number, self.value, self.raw_bytes, self.read_error],
                        schema=LINE_SCHEMA)


def registered_bytes(f: SourceFile, locations: Sequence[str] = ()) -> bytes:
    """The first `f.size` bytes of the file (or of a copy with the same content, if it moved), checked by SHA-256."""
    problems = []
    for path in (f.path, *locations):
        try:
            with open(path, "rb") as handle:
                data = handle.read(f.size)
        except OSError as error:
            problems.append(f"{path}: {error.strerror or error}")
            continue
        if len(data) == f.size and hashlib.sha256(data).hexdigest() == f.sha256:
            return data
        problems.append(f"{path}: {'shorter than' if len(data) < f.size else 'different from'} the registered "
                        f"{f.size} bytes")
    raise SourceChangedError(
        f"{f.path} no longer holds the {f.size} bytes registered (SHA-256 {f.sha256[:12]}...): "
        f"{'; '.join(problems)}. Restore the file, or put a new version in place under a new name.")


def _decompressed(data: bytes) -> tuple[bytes, bool]:
    """(content, intact) for plain or gzip data; a broken gzip stream gives what it held before the break."""
    if not data.startswith(GZIP_MAGIC):
        return data, True
    try:
        return gzip.decompress(data), True
    except (OSError, EOFError, zlib.error):
        stream = zlib.decompressobj(wbits=31)
        try:
            return stream.decompress(data), False
        except zlib.error:
            return b"", False


def split_lines(path: str, content: bytes, max_line_bytes: int, lines: Lines) -> None:
    """Non-blank lines with their 1-based numbers; invalid UTF-8 and oversize lines get a read error."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    for number, raw in enumerate(content.split(b"\n"), start=1):
        raw = raw.removesuffix(b"\r")
        if not raw.strip():
            continue
        if len(raw) > max_line_bytes:
            lines.add(path, number, None, raw, "oversize_line")
            continue
        try:
            lines.add(path, number, raw.decode("utf-8"), None, None)
        except UnicodeDecodeError:
            lines.add(path, number, None, raw, "invalid_utf8")


def read_lines(f: SourceFile, data: bytes, max_line_bytes: int, lines: Lines) -> None:
    """The lines of one registered file's bytes (gzip undone), or one row for a file that cannot be read as lines."""
    for magic, kind in OTHER_COMPRESSION.items():
        if data.startswith(magic):
            lines.add(f.path, 0, None, data, f"unsupported_compression:{kind}")
            return
    content, intact = _decompressed(data)
    split_lines(f.path, content, max_line_bytes, lines)
    if not intact:  # the lines before the break are kept; the whole file's bytes go to quarantine
        lines.add(f.path, 0, None, data, "corrupt_gzip")


def read_registered(files: Sequence[SourceFile], locations: dict[str, list[str]] | None = None,
                    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> pa.Table:
    """Every non-blank line of the batch's files as registered (LINE_SCHEMA); raises SourceChangedError if a file's
    registered bytes are gone."""
    lines = Lines([], [], [], [], [])
    for f in files:
        read_lines(f, registered_bytes(f, (locations or {}).get(f.path, ())), max_line_bytes, lines)
    return lines.table()
