"""Reading what was registered: exact bytes, gzip by magic number, raw bytes kept, oversize and compressed files."""

import gzip
import hashlib
from pathlib import Path

import pytest

from tweet_sentiment.landing.manifest import SourceFile
from tweet_sentiment.landing.reader import SourceChangedError, read_registered, registered_bytes
from tweet_sentiment_tests.helpers import registered


def _rows(table) -> list[tuple]:
    return list(zip(*(table.column(name).to_pylist() for name in table.column_names), strict=True))


def test_a_file_that_grew_is_read_up_to_its_registered_size(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'{"text": "one"}\n{"text": "two"}\n')
    f = registered(path)
    with path.open("ab") as handle:  # the writer goes on after registration
        handle.write(b'{"text": "three"}\n')
    values = read_registered([f]).column("value").to_pylist()
    assert values == ['{"text": "one"}', '{"text": "two"}']


def test_a_rewritten_file_fails_loudly_and_a_moved_one_is_read_from_its_copy(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'{"text": "one"}\n')
    f = registered(path)
    path.write_bytes(b'{"text": "ONE"}\n')  # same size, other bytes
    with pytest.raises(SourceChangedError, match="no longer holds the 16 bytes registered"):
        registered_bytes(f)
    copy = tmp_path / "renamed.json"
    copy.write_bytes(b'{"text": "one"}\n')
    path.unlink()
    assert registered_bytes(f, [str(copy)]) == b'{"text": "one"}\n'


def test_lines_keep_numbers_and_exact_bytes_and_oversize_lines_get_their_own_reason(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    big = b'{"text": "' + b"x" * 200 + b'"}'
    path.write_bytes(b'\xef\xbb\xbf{"text": "bom"}\r\n\n  \n{"text": "caf\xe9"}\n' + big + b"\n{\"text\": \"last\"}")
    rows = _rows(read_registered([registered(path)], max_line_bytes=100))
    assert [(number, value, raw, error) for _, number, value, raw, error in rows] == [
        (1, '{"text": "bom"}', None, None),
        (4, None, b'{"text": "caf\xe9"}', "invalid_utf8"),
        (5, None, big, "oversize_line"),
        (6, '{"text": "last"}', None, None),
    ]


def test_gzip_is_read_by_its_magic_number_and_a_broken_stream_keeps_what_it_held(tmp_path: Path) -> None:
    lines = b"".join(b'{"text": "t%d"}\n' % i for i in range(500))
    packed = tmp_path / "named-plain.json"  # a gzip file whatever its name says
    packed.write_bytes(gzip.compress(lines))
    assert len(read_registered([registered(packed)])) == 500

    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(gzip.compress(lines)[:-20])  # cut short: no trailer, last block incomplete
    rows = _rows(read_registered([registered(broken)]))
    assert rows[-1][1:] == (0, None, broken.read_bytes(), "corrupt_gzip")  # the whole file's bytes kept
    assert 0 < len(rows) - 1 <= 500 and all(error is None for *_, error in rows[:-2])


def test_other_compression_is_quarantined_whole_with_its_format(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "tweets.json"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("inner.json", '{"text": "hidden"}\n')
    rows = _rows(read_registered([registered(archive)]))
    assert [(r[1], r[4]) for r in rows] == [(0, "unsupported_compression:zip")]
    assert rows[0][3] == archive.read_bytes()


def test_an_empty_registered_file_has_no_lines(tmp_path: Path) -> None:
    empty = SourceFile(str(tmp_path / "e.json"), 0, 1, hashlib.sha256(b"").hexdigest())
    (tmp_path / "e.json").write_bytes(b"")
    assert len(read_registered([empty])) == 0
