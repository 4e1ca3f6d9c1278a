"""Reading SemEval files: dedupe, conflicting labels, no dev tweet in training."""

from pathlib import Path

import pytest

from tweet_sentiment.model.semeval import DEV_FILE, load_splits


def _write(folder: Path, name: str, rows: list[str]) -> None:
    (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_load_splits_dedupes_and_keeps_dev_out(tmp_path: Path) -> None:
    _write(tmp_path, DEV_FILE, ["1\tpositive\tI love it", "2\tnegative\tso bad @Ann"])
    _write(tmp_path, "twitter-2013train-A.txt", [
        "1\tpositive\tI love it",            # dev id: dropped
        "3\tnegative\tso bad @Bob",          # same text as dev after normalisation: dropped
        "4\tneutral\tmeeting at 3",
        "4\tneutral\tmeeting at 3",          # repeated id
        "5\tpositive\tgreat day\t",          # fourth, empty field
        "6\tpositive\tmixed",
        "7\tnegative\tmixed",                # conflicting labels for one text: both dropped
        "broken line",
    ])
    _write(tmp_path, "twitter-2016train-A.txt", ["8\tneutral\tmeeting at 3"])  # same text, other file
    splits = load_splits(tmp_path)
    assert sorted(splits.dev["tweet_id"]) == ["1", "2"]
    assert sorted(splits.train["tweet_id"]) == ["4", "5"]
    assert dict(zip(splits.train["tweet_id"], splits.train["label"], strict=True)) == {"4": "NEU", "5": "POS"}


def test_missing_dev_file_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "twitter-2013train-A.txt", ["4\tneutral\tmeeting at 3"])
    with pytest.raises(FileNotFoundError, match=DEV_FILE):
        load_splits(tmp_path)
