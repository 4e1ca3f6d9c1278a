"""The Dagster instance under the home folder: DAGSTER_HOME is <home>/dagster with the project's dagster.yaml."""

import os
import shutil
from pathlib import Path

import dagster as dg

from tweet_sentiment.locks import file_lock
from tweet_sentiment.settings import HOME_ENV_VAR, SOURCE_ENV_VAR, HomeLayout

_PROJECT_ROOT = Path(__file__).resolve().parents[1]
_INSTANCE_TEMPLATES = (_PROJECT_ROOT / "dagster.yaml", Path(__file__).parent / "_instance" / "dagster.yaml")


def instance_template() -> Path:
    """The project's dagster.yaml (repository root, or the copy packaged into a wheel)."""
    for template in _INSTANCE_TEMPLATES:
        if template.is_file():
            return template
    raise FileNotFoundError(f"dagster.yaml not found in {[str(t) for t in _INSTANCE_TEMPLATES]}")


def prepare_home(layout: HomeLayout, source: Path | None = None) -> None:
    """Create the home folder and point this process (and its children) at it."""
    layout.dagster_home.mkdir(parents=True, exist_ok=True)
    layout.lakehouse.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(instance_template(), layout.dagster_home / "dagster.yaml")
    os.environ[HOME_ENV_VAR] = str(layout.root)
    os.environ["DAGSTER_HOME"] = str(layout.dagster_home)
    if source is not None:
        os.environ[SOURCE_ENV_VAR] = str(source.expanduser().resolve())


def open_instance(layout: HomeLayout, source: Path | None = None) -> dg.DagsterInstance:
    """The persistent Dagster instance of this home; its storage is created (or migrated) by one process at a time,
    since two processes creating the sqlite schemas at once leave a home no command can open."""
    prepare_home(layout, source)
    with file_lock(layout.locks / "stores.lock", what="creating the Dagster instance storage"):
        instance = dg.DagsterInstance.get()
        instance.get_run_records(limit=1)  # the storages are made on first use: make them now, under the lock
        instance.get_dynamic_partitions("batches")
        if instance.schedule_storage is not None:
            instance.schedule_storage.all_instigator_state()
    return instance
