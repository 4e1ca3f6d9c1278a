"""Jobs the CLI runs in its own process, recorded as runs of the project's code location: Dagster leaves
`execute_in_process` runs without an origin, and the UI then leaves them out of the Overview timeline and the job's
last runs. With the origin, they show there beside the daemon's runs, tagged as the CLI's, and can be re-executed."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.remote_origin import ManagedGrpcPythonEnvCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

LOCATION_NAME = "tweet_sentiment"
"""The code location's name in workspace.yaml, which `tweet-sentiment dev` always loads."""
DEFINITIONS_MODULE = "tweet_sentiment.definitions"
LAUNCHED_BY_TAG = "tweet_sentiment/launched_by"
# A failed CLI run is reported by the CLI and picked up again by its next `run`: the daemon must not retry it too.
CLI_TAGS = {LAUNCHED_BY_TAG: "cli", "dagster/max_retries": "0"}

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def workspace_file(home_dagster_dir: Path) -> Path:
    """The repository's workspace.yaml; where the package runs from a wheel, one written under the home that names
    the same code location."""
    project = _PROJECT_ROOT / "workspace.yaml"
    if project.is_file():
        return project
    written = home_dagster_dir / "workspace.yaml"
    written.write_text(f"load_from:\n  - python_module:\n      module_name: {DEFINITIONS_MODULE}\n"
                       f"      location_name: {LOCATION_NAME}\n")
    return written


def job_origin(job_name: str) -> RemoteJobOrigin:
    """The origin the UI gives runs of `job_name` launched from the code location."""
    target = LoadableTargetOrigin(executable_path=sys.executable, module_name=DEFINITIONS_MODULE,
                                  working_directory=str(_PROJECT_ROOT))
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, LOCATION_NAME)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), job_name)


@contextmanager
def _runs_with_origin(instance: dg.DagsterInstance, job_name: str) -> Iterator[None]:
    # execute_in_process creates its run through the instance and takes no origin: give it one for this call.
    create = instance.create_run_for_job

    def create_with_origin(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("remote_job_origin", job_origin(job_name))
        return create(*args, **kwargs)

    instance.create_run_for_job = create_with_origin  # type: ignore[method-assign]
    try:
        yield
    finally:
        del instance.create_run_for_job


def execute_from_cli(job: dg.JobDefinition, instance: dg.DagsterInstance, tags: dict[str, str] | None = None,
                     **kwargs: Any) -> dg.ExecuteInProcessResult:
    """`job.execute_in_process` on `instance`, recorded as a run of the code location and tagged as the CLI's."""
    with _runs_with_origin(instance, job.name):
        return job.execute_in_process(instance=instance, tags={**CLI_TAGS, **(tags or {})}, **kwargs)
