"""Commit records read straight from a local Delta log (`_delta_log/*.json`): no Spark job, no log replay."""

import json
from pathlib import Path
from typing import Any

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
    """Versions newer than `after_version` whose commit adds files to `partition` (a dict of partition values)."""
    versions = []
    for commit_file in _commit_files(table):
        version = int(commit_file.stem)
        if after_version is not None and version <= after_version:
            break
        for line in commit_file.read_text(encoding="utf-8").splitlines():
            add = json.loads(line).get("add") if line.strip() else None
            if add and all(add.get("partitionValues", {}).get(k) == v for k, v in partition.items()):
                versions.append(version)
                break
    return sorted(versions)
