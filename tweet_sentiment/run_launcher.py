"""A run launcher that starts runs from a warm process: a fork server that imported dagster, Spark Connect, MLflow
and the other heavy libraries once. A run then costs a fork and the loading of this project's own code, instead of a
new interpreter importing everything (about 4 s per run with Dagster's default launcher, docs/benchmarks.md).

The project's code is not preloaded: each run imports it from disk, so an edit reaches the next run. A run of another
Python environment (a code location with its own executable) goes through Dagster's default launcher. A run worker
that dies is found by `runs.fail_orphaned_runs` from the process tags set here.
"""

import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster._core.launcher.base import LaunchRunContext
from dagster._serdes import ConfigurableClassData, deserialize_value, serialize_value

from tweet_sentiment.runs import HOST_TAG, PID_TAG, process_is_gone, process_tags

LAUNCHER_TAG = "tweet_sentiment/run_launcher"
WARM = "warm_fork"
DEFAULT_PRELOAD = ("dagster", "dagster_pyspark", "pandas", "pyarrow", "pyspark.sql.connect.session",
                   "pyspark.sql.functions", "mlflow", "mlflow.pyfunc", "sklearn.metrics", "matplotlib.pyplot")


def same_python(executable: str | None) -> bool:
    """Whether a code location runs on this interpreter (unresolved paths: two venvs share one real binary)."""
    return bool(executable) and os.path.abspath(executable) == os.path.abspath(sys.executable)


def execute_run(run_id: str, serialized_instance_ref: str) -> None:
    """The run worker, in a process forked from the warm server: what `dagster api execute_run` does."""
    from dagster._cli.api import _execute_run_command_body
    from dagster._utils.interrupts import capture_interrupts

    with capture_interrupts(), dg.DagsterInstance.from_ref(deserialize_value(serialized_instance_ref)) as instance:
        try:
            _execute_run_command_body(run_id, instance, lambda _event: None, set_exit_code_on_failure=False)
        except Exception as error:  # before execution began (the code did not load): the run must not hang
            run = instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                instance.report_run_failed(run, f"the run worker failed before executing: {error!r}")
            raise


class WarmRunLauncher(dg.DefaultRunLauncher):
    """Dagster's default launcher, except that runs of this interpreter are forked from a warm server."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, preload: Sequence[str] = DEFAULT_PRELOAD):
        super().__init__(inst_data=inst_data)
        self._preload = list(preload)
        self._forks: multiprocessing.context.ForkServerContext | None = None

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return {"preload": dg.Field([str], is_required=False, default_value=list(DEFAULT_PRELOAD),
                                    description="Modules the warm server imports once, for every run.")}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData,
                          config_value: Mapping[str, Any]) -> "WarmRunLauncher":
        return cls(inst_data=inst_data, preload=config_value.get("preload", DEFAULT_PRELOAD))

    def _fork_context(self) -> multiprocessing.context.ForkServerContext:
        if self._forks is None:
            forks = multiprocessing.get_context("forkserver")
            forks.set_forkserver_preload(self._preload)  # imported when the server starts, at the first launch
            self._forks = forks
        return self._forks

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin = run.job_code_origin
        if origin is None or not same_python(origin.executable_path):
            super().launch_run(context)
            return
        worker = self._fork_context().Process(target=execute_run, name=f"dagster-run-{run.run_id[:8]}",
                                              args=(run.run_id, serialize_value(self._instance.get_ref())))
        worker.start()
        self._instance.add_run_tags(run.run_id, {LAUNCHER_TAG: WARM, **process_tags(worker.pid)})
        self._run_ids.add(run.run_id)
        multiprocessing.active_children()  # reaps the workers of finished runs

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        if run is None or run.tags.get(LAUNCHER_TAG) != WARM:
            return super().terminate(run_id)
        if run.is_finished or run.tags.get(HOST_TAG) != socket.gethostname() or process_is_gone(dict(run.tags)):
            return False
        self._instance.report_run_canceling(run)
        # Dagster's run worker takes SIGTERM as an interrupt: the step stops and the run ends canceled.
        os.kill(int(run.tags[PID_TAG]), signal.SIGTERM)
        return True
