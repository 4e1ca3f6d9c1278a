"""Commit records and checksums read straight from a local Delta log (`_delta_log`): no Spark job, no log replay."""

import json
from pathlib import Path
from typing import Any

from tweet_sentiment.lakehouse.table_layout import may_hold, single_value

LOG_DIR = "_delta_log"


def _commit_files(table: Path) -> list[Path]:
    """The table's JSON commit files, newest first."""
    return sorted((table / LOG_DIR).glob("[0-9]*.json"), reverse=True)


def latest_version(table: Path) -> int | None:
    """The newest committed version, None when the table has no log yet."""
    files = _commit_files(table)
    return int(files[0].stem) if files else None


def commit_info(commit_file: Path) -> dict[str, Any]:
    """The `commitInfo` action of one commit file, with `version` added."""
    for line in commit_file.read_text(encoding="utf-8").splitlines():
        action = json.loads(line) if line.strip() else {}
        if "commitInfo" in action:
            return {**action["commitInfo"], "version": int(commit_file.stem)}
    return {"version": int(commit_file.stem)}


def find_commit(table: Path, user_metadata: str, depth: int = 50) -> dict[str, Any] | None:
    """The commit whose `userMetadata` is `user_metadata` among the newest `depth`, None if absent."""
    for commit_file in _commit_files(table)[:depth]:
        info = commit_info(commit_file)
        if info.get("userMetadata") == user_metadata:
            return info
    return None


def commits_adding_to(table: Path, partition: dict[str, str], after_version: int | None) -> list[int]:
    """Versions newer than `after_version` whose commit adds data files that may hold `partition` (a dict of column
    values, matched on partition values or file statistics); compaction, which adds no data, left out."""
    versions = []
    for commit_file in _commit_files(table):
        version = int(commit_file.stem)
        if after_version is not None and version <= after_version:
            break
        for line in commit_file.read_text(encoding="utf-8").splitlines():
            add = json.loads(line).get("add") if line.strip() else None
            if add and add.get("dataChange", True) and may_hold_partition([add], partition):
                versions.append(version)
                break
    return sorted(versions)


def live_files(table: Path, version: int) -> list[dict[str, Any]] | None:
    """The `add` actions live at `version`, from its version checksum (`.crc`) where the writer stored `allFiles`.

    The Delta protocol makes the checksum and its `allFiles` optional (Delta Spark skips them for large tables), so
    None means "unknown here": ask a Delta reader instead.
    """
    try:
        checksum = json.loads((table / LOG_DIR / f"{version:020d}.crc").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = checksum.get("allFiles") if isinstance(checksum, dict) else None
    return files if isinstance(files, list) else None


def may_hold_partition(files: list[dict[str, Any]], partition: dict[str, str]) -> bool:
    """Whether any of these `add` actions may hold rows of `partition` (a dict of column values): exact where the
    columns are partition columns, from the files' min/max statistics otherwise."""
    return any(may_hold(add, partition) for add in files)


def table_metadata(table: Path, depth: int | None = 20) -> dict[str, Any] | None:
    """The table's newest `metaData` action (schemaString, partitionColumns, configuration), from the newest
    checksum or commit (among the newest `depth`; None: all) that records it; None when the local log does not say
    (no table, or metadata only in older files or a checkpoint)."""
    for commit_file in _commit_files(table)[:depth]:
        checksum = commit_file.with_suffix(".crc")
        try:
            metadata = json.loads(checksum.read_text(encoding="utf-8")).get("metadata")
        except (OSError, ValueError):
            metadata = None
        if metadata is None:
            for line in commit_file.read_text(encoding="utf-8").splitlines():
                action = json.loads(line) if line.strip() else {}
                metadata = action.get("metaData") or metadata
        if isinstance(metadata, dict):
            return metadata
    return None


def partition_columns(table: Path, depth: int = 20) -> list[str] | None:
    """The table's physical partition columns, from its newest metadata in the local log (see `table_metadata`)."""
    metadata = table_metadata(table, depth)
    columns = metadata.get("partitionColumns") if metadata is not None else None
    return list(columns) if isinstance(columns, list) else None


def _commit_actions(table: Path, version: int) -> list[dict[str, Any]] | None:
    """The actions of one commit file, None when the file is gone (log clean-up)."""
    try:
        text = (table / LOG_DIR / f"{version:020d}.json").read_text(encoding="utf-8")
    except OSError:
        return None
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def partitions_changed(table: Path, column: str, after_version: int | None,
                       upto_version: int) -> dict[str, int] | None:
    """Value of `column` -> newest version in (`after_version`, `upto_version`] whose commit added or removed data
    with that value (compaction, which changes no data, left out). None when that cannot be told from the log: a
    commit file is gone (log clean-up), or a file's value is not single (neither a partition value nor equal min
    and max statistics: a removed file of a date partition, a file of several batches); read the change feed then."""
    changed: dict[str, int] = {}
    for version in range(0 if after_version is None else after_version + 1, upto_version + 1):
        actions = _commit_actions(table, version)
        if actions is None:
            return None
        for action in actions:
            for kind in ("add", "remove"):
                file = action.get(kind)
                if not file or not file.get("dataChange", True):
                    continue
                value = single_value(file, column)
                if value is None:
                    return None
                changed[value] = version
    return changed


def removes_data(table: Path, after_version: int, upto_version: int) -> bool | None:
    """Whether a commit in (`after_version`, `upto_version`] removed data (a replaced, deleted or updated file;
    compaction left out): if not, the change feed of that range holds inserts only. None when a commit file is
    gone (log clean-up)."""
    for version in range(after_version + 1, upto_version + 1):
        actions = _commit_actions(table, version)
        if actions is None:
            return None
        if any(a.get("remove") and a["remove"].get("dataChange", True) for a in actions):
            return True
    return False


def recorded_state(table: Path, key: str, depth: int = 100) -> dict[str, Any] | None:
    """The `key` object of the newest commit (among the newest `depth`) whose `userMetadata` is JSON holding it:
    what a writer recorded about its inputs in its own commit. None when no such commit is found."""
    for commit_file in _commit_files(table)[:depth]:
        metadata = commit_info(commit_file).get("userMetadata")
        try:
            state = json.loads(metadata) if metadata else None
        except ValueError:
            continue
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            return state[key]
    return None
