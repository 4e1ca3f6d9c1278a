"""Freshness: seconds from a tweet file landing in the source folder to `mention_sentiment` reflecting it, with the
real Dagster daemon and sensors running (`dagster dev` on loopback), and where those seconds go."""

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
from dagster._core.scheduler.instigation import InstigatorType

from tweet_sentiment.lakehouse.table_layout import single_value
from tweet_sentiment.lakehouse.table_names import GOLD_TABLE, TOTALS_TABLE
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.processes import free_port, stop_tree
from tweet_sentiment.settings import HomeLayout

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOURCE_SENSOR = "source_files_sensor"
AUTOMATION_SENSOR = "gold_automation_sensor"
MENTIONS = TOTALS_TABLE


class FreshnessTimeout(RuntimeError):
    """The daemon did not get the new file into mention_sentiment in time."""


# ---------------------------------------------------------------- the timeline: pure, tested without a daemon


@dataclass(frozen=True)
class Milestone:
    """One recorded moment on the way from the file landing to mention_sentiment reflecting it."""

    name: str
    timestamp: float


def breakdown(milestones: list[Milestone]) -> dict[str, float]:
    """Seconds between consecutive milestones, in time order, keyed `<from> -> <to>`; they sum to the span."""
    ordered = sorted(milestones, key=lambda m: m.timestamp)
    return {f"{a.name} -> {b.name}": round(b.timestamp - a.timestamp, 3) for a, b in pairwise(ordered)}


@dataclass
class RunTimeline:
    """Timestamps of one run from the Dagster event log: lifecycle events and each step's start and end."""

    run_id: str
    job_name: str
    created: float
    events: dict[str, float] = field(default_factory=dict)
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)
    materialized: dict[str, float] = field(default_factory=dict)
    inference_seconds: float | None = None
    model_loads: int | None = None

    def milestones(self, label: str) -> list[Milestone]:
        """The run's moments, named `<label> <what>`."""
        points = [Milestone(f"{label} created", self.created)]
        points += [Milestone(f"{label} {event}", ts) for event, ts in self.events.items()]
        points += [Milestone(f"{label} {asset} materialized", ts) for asset, ts in self.materialized.items()
                   if asset == MENTIONS]
        points += [Milestone(f"{label} step {step} start", start) for step, (start, _) in self.steps.items()]
        return points

    def step_seconds(self) -> dict[str, float]:
        return {step: round(end - start, 3) for step, (start, end) in self.steps.items()}


def _span(end: float | None, start: float | None) -> float | None:
    return round(end - start, 3) if end is not None and start is not None else None


def where_time_goes(landed: float, reflected: float, registered: tuple[float, float] | None,
                    first_look: float | None, batch: RunTimeline | None, automation: tuple[float, float] | None,
                    aggregate: RunTimeline | None, mentions_committed: float | None) -> dict[str, Any]:
    """The freshness span cut into phases (sensor, run queue and launch, steps, automation, aggregate run) and into
    segments between every recorded moment. `aggregate` is `batch` when the batch run refreshes mention_sentiment."""
    separate = aggregate is not None and aggregate is not batch
    points = [Milestone("file landed", landed), Milestone("mention_sentiment reflects it (polled)", reflected)]
    if first_look is not None and (registered is None or first_look < registered[0]):
        points.append(Milestone("first sensor look (file still settling)", first_look))
    if registered is not None:
        points.append(Milestone("batch registered and its run requested", registered[0]))
    for label, run in (("batch run", batch), ("aggregate run", aggregate if separate else None)):
        points += run.milestones(label) if run is not None else []
    if automation is not None:
        points.append(Milestone("automation tick launching the aggregate", automation[0]))
    if mentions_committed is not None and landed < mentions_committed:
        points.append(Milestone("mention_sentiment Delta commit", mentions_committed))
    phases = {
        "batch_requested": _span(registered[1] if registered else None, landed),
        "batch_run_queue_and_launch": _span(_get(batch, "RUN_START"), batch.created if batch else None),
        "batch_run_steps": _span(_get(batch, "RUN_SUCCESS"), _get(batch, "RUN_START")),
    }
    if separate:
        phases |= {
            # The automation sensor may launch the aggregate once gold is written, before the batch run ends.
            "wait_for_automation_sensor": _span(aggregate.created,
                                                batch.materialized.get(GOLD_TABLE) if batch else None),
            "aggregate_run_queue_and_launch": _span(_get(aggregate, "RUN_START"), aggregate.created),
            "aggregate_run_until_mentions": _span(aggregate.materialized.get(MENTIONS), _get(aggregate, "RUN_START")),
        }
    phases["commit_to_observed"] = _span(reflected, mentions_committed)
    return {
        "freshness_seconds": round(reflected - landed, 3),
        "phases_s": {name: seconds for name, seconds in phases.items() if seconds is not None},
        "segments_s": breakdown(points),
        "batch_steps_s": batch.step_seconds() if batch else {},
        "aggregate_steps_s": aggregate.step_seconds() if separate else {},
        "inference_s": batch.inference_seconds if batch else None,
        "model_loads": batch.model_loads if batch else None,
    }


def _get(run: RunTimeline | None, event: str) -> float | None:
    return run.events.get(event) if run is not None else None


# ---------------------------------------------------------------- reading Delta tables without Spark


def delta_files(table: Path) -> dict[str, dict[str, Any]]:
    """The live files of a Delta table (path -> add action), replaying its JSON log from the last checkpoint."""
    log_dir = table / "_delta_log"
    live: dict[str, dict[str, Any]] = {}
    start = -1
    pointer = log_dir / "_last_checkpoint"
    if pointer.is_file():
        start = int(json.loads(pointer.read_text())["version"])
        for part in sorted(log_dir.glob(f"{start:020d}.checkpoint*.parquet")):
            for row in pq.read_table(part, columns=["add"]).column("add").to_pylist():
                if row is not None:
                    live[row["path"]] = {**row, "partitionValues": dict(row.get("partitionValues") or [])}
    for commit in sorted(log_dir.glob("[0-9]*.json")):
        if int(commit.stem) <= start:
            continue
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                live[action["add"]["path"]] = action["add"]
            elif "remove" in action:
                live.pop(action["remove"]["path"], None)
    return live


def latest_commit_timestamp(table: Path) -> float | None:
    """When the table's latest version was committed (commitInfo timestamp, epoch seconds)."""
    commits = sorted((table / "_delta_log").glob("[0-9]*.json"))
    for line in commits[-1].read_text().splitlines() if commits else []:
        info = json.loads(line).get("commitInfo")
        if info and "timestamp" in info:
            return info["timestamp"] / 1000
    return None


def mentions_reflect(layout: HomeLayout, batch_files: int) -> bool:
    """True once gold has rows from at least `batch_files` source batches and mention_sentiment counts every
    gold row (its `total` column sums to gold's row count): the aggregate was rebuilt after the new batch."""
    gold, mentions = layout.table(GOLD_TABLE), layout.table(MENTIONS)
    if not (gold / "_delta_log").is_dir() or not (mentions / "_delta_log").is_dir():
        return False
    gold_files = delta_files(gold).values()
    if len({single_value(f, "batch") for f in gold_files} - {None}) < batch_files:
        return False
    gold_rows = sum(json.loads(f.get("stats") or "{}").get("numRecords", 0) for f in gold_files)
    counted = sum(sum(v or 0 for v in pq.read_table(mentions / path, columns=["total"]).column("total").to_pylist())
                  for path in delta_files(mentions))
    return gold_rows > 0 and counted == gold_rows


# ---------------------------------------------------------------- the Dagster instance: ticks, runs, events


def sensor_ticks(instance: dg.DagsterInstance, name: str, after: float | None = None) -> list[Any]:
    """Ticks of the named sensor, oldest first."""
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.instigator_name == name:
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, after=after)
            return sorted(ticks, key=lambda t: t.timestamp)
    return []


def run_timeline(instance: dg.DagsterInstance, run_id: str) -> RunTimeline:
    """A run's lifecycle events, step starts and ends, materializations and gold's inference time."""
    record = instance.get_run_record_by_id(run_id)
    timeline = RunTimeline(run_id, record.dagster_run.job_name, record.create_timestamp.timestamp())
    starts: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type.name  # the stored values are legacy names (PIPELINE_START)
        if kind in ("RUN_ENQUEUED", "RUN_DEQUEUED", "RUN_STARTING", "RUN_START", "RUN_SUCCESS", "RUN_FAILURE"):
            timeline.events.setdefault(kind, entry.timestamp)
        elif kind == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            timeline.steps[event.step_key] = (starts[event.step_key], entry.timestamp)
        elif kind == "ASSET_MATERIALIZATION":
            timeline.materialized.setdefault(event.asset_key.to_user_string(), entry.timestamp)
            if event.asset_key.to_user_string() == GOLD_TABLE:
                metadata = event.event_specific_data.materialization.metadata
                timeline.inference_seconds = _value(metadata.get("scoring_seconds"))
                timeline.model_loads = _value(metadata.get("model_loads"))
    return timeline


def _value(entry: Any) -> Any:
    return getattr(entry, "value", None)


def watcher_run_after(instance: dg.DagsterInstance, since: float) -> str | None:
    """The first run the landing watcher submitted after `since`."""
    from tweet_sentiment.commands.cli_runs import LAUNCHED_BY_TAG
    from tweet_sentiment.commands.landing_watcher import REQUESTER

    records = instance.get_run_records(dg.RunsFilter(tags={LAUNCHED_BY_TAG: REQUESTER}), limit=20)
    after = sorted((r for r in records if r.create_timestamp.timestamp() >= since),
                   key=lambda r: r.create_timestamp)
    return after[0].dagster_run.run_id if after else None


def mentions_run_finished(instance: dg.DagsterInstance, since: float) -> bool:
    """The run that last materialized mention_sentiment did so after `since` and has finished."""
    records = instance.fetch_materializations(dg.AssetKey(MENTIONS), limit=1).records
    if not records or records[0].timestamp < since:
        return False
    run = instance.get_run_by_id(records[0].run_id)
    return run is not None and run.is_finished


def collect(instance: dg.DagsterInstance, landed: float, reflected: float, layout: HomeLayout) -> dict[str, Any]:
    """Everything the instance recorded between the landing and the reflection, cut into phases."""
    source_ticks = sensor_ticks(instance, SOURCE_SENSOR, after=landed - 1)
    looks = [t for t in source_ticks if t.timestamp >= landed]
    registering = next((t for t in looks if t.run_ids), None)
    batch = run_timeline(instance, registering.run_ids[0]) if registering else None
    requested = (registering.timestamp, registering.end_timestamp or registering.timestamp) if registering else None
    watcher_run = None if registering else watcher_run_after(instance, landed)
    if watcher_run is not None:
        batch = run_timeline(instance, watcher_run)
        requested = (batch.created, batch.created)
    aggregate, automation = None, None
    if batch is not None and MENTIONS in batch.materialized:
        aggregate = batch
    for tick in sensor_ticks(instance, AUTOMATION_SENSOR, after=landed - 1):
        for run_id in tick.run_ids if aggregate is None else []:
            candidate = run_timeline(instance, run_id)
            if MENTIONS in candidate.materialized:
                aggregate, automation = candidate, (tick.timestamp, tick.end_timestamp or tick.timestamp)
                break
    result = where_time_goes(landed, reflected, requested, looks[0].timestamp if looks else None, batch, automation,
                             aggregate, latest_commit_timestamp(layout.table(MENTIONS)))
    result["requested_by"] = "landing watcher" if watcher_run else "sensor" if registering else None
    result["raw"] = {
        "landed": landed, "reflected": reflected,
        "source_sensor_ticks": [{"timestamp": t.timestamp, "end": t.end_timestamp, "status": t.status.value,
                                 "run_ids": list(t.run_ids)} for t in looks],
        "automation_tick": automation,
        "runs": {run.run_id: {"job": run.job_name, "created": run.created, "events": run.events, "steps": run.steps,
                              "materialized": run.materialized} for run in (batch, aggregate) if run is not None},
    }
    return result


# ---------------------------------------------------------------- the daemon under test


@contextmanager
def home_environment(layout: HomeLayout) -> Iterator[dict[str, str]]:
    """The environment `tweet-sentiment dev` gives dagster dev for this home; this process's is left as it was."""
    from tweet_sentiment.instance import prepare_home

    saved = dict(os.environ)
    try:
        prepare_home(layout)
        yield dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def dagster_dev(env: dict[str, str], log_path: Path, layout: HomeLayout) -> Iterator[tuple[subprocess.Popen, int]]:
    """`dagster dev` (webserver, daemon, code server) on 127.0.0.1 in its own process group, with the landing
    watcher beside it as `tweet-sentiment dev` runs it; always stopped."""
    from tweet_sentiment.commands.landing_watcher import start_landing_watcher

    port = free_port()
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port),
               "-w", str(PROJECT_ROOT / "workspace.yaml")]
    with log_path.open("wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        watcher = start_landing_watcher(layout, None, f"http://127.0.0.1:{port}", watch_pid=process.pid, env=env)
        try:
            yield process, port
        finally:
            stop_tree(watcher)
            leftovers = stop_tree(process)
            if leftovers:
                log.warning(f"killed {len(leftovers)} processes that ignored SIGTERM: {leftovers}")


def _check_alive(process: subprocess.Popen, log_path: Path) -> None:
    if process.poll() is not None:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"dagster dev exited with {process.returncode}; last output:\n{tail}")


def wait_until(condition: Any, deadline: float, what: str, process: subprocess.Popen, log_path: Path,
               every_s: float = 0.25) -> float:
    """Poll `condition()` until true; return when it first held. Fails when dagster dev dies or time runs out."""
    while True:
        if condition():
            return time.time()
        _check_alive(process, log_path)
        if time.time() > deadline:
            raise FreshnessTimeout(f"timed out waiting for {what}; dagster dev output is in {log_path}")
        time.sleep(every_s)


def _webserver_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def land_file(source: Path, staging: Path, tweets: int, seed: int) -> tuple[Path, float]:
    """Write a tweet file in a staging folder and rename it into the source folder (atomic on one filesystem)."""
    [written] = write_source_files(staging, tweets=tweets, files=1, seed=seed, prefix="freshness")
    target = source / written.name
    os.rename(written, target)
    return target, time.time()


_ATTACH = """
import sys, time
from tweet_sentiment.engine.sessions import connect
start = time.perf_counter()
connect(sys.argv[1]).range(1).count()
print(time.perf_counter() - start)
"""
WORKERS_IDLE_S = 70.0
"""Longer than Spark's fixed minute after which it ends idle Python workers (and the model they loaded)."""


@dataclass(frozen=True)
class Landing:
    """One file landed during the benchmark, after `wait_s` of quiet."""

    name: str
    wait_s: float = 0.0


WARM_LANDINGS = ("warm", "warm_2", "warm_3")
LANDINGS = (Landing("cold_engine"), *(Landing(name) for name in WARM_LANDINGS), Landing("workers_idle", WORKERS_IDLE_S))
"""The first file starts the engine (no engine ran before it); the next three find the engine and its workers warm
(the first of them is the second batch the JVM sees: its Spark and Delta code is least compiled); the last comes
after a quiet spell longer than Spark's idle limit for Python workers (the engine's pinger keeps them)."""


def warm_median(cases: dict[str, Any]) -> float | None:
    """The median freshness of the warm landings that finished (the machine's noise moves any single one)."""
    seconds = sorted(cases[name]["freshness_seconds"] for name in WARM_LANDINGS
                     if cases.get(name, {}).get("freshness_seconds") is not None)
    return statistics.median(seconds) if seconds else None


def engine_attach_seconds(env: dict[str, str], url: str) -> float:
    """Seconds for a fresh interpreter to attach to the engine and run one action (what a run's Spark costs)."""
    out = subprocess.run([sys.executable, "-c", _ATTACH, url], cwd=PROJECT_ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 3)


def bench_freshness(workdir: Path, tweets: int = 1000, timeout_s: float = 600.0,
                    landings: tuple[Landing, ...] = LANDINGS) -> dict[str, Any]:
    """Land `tweets`-tweet files one after another under a running `dagster dev` on a fresh home in `workdir`, and
    time how long until mention_sentiment reflects each: the first with no engine running (the run starts it), then
    with the engine warm. `freshness_seconds` is the first warm case, `warm_median_freshness_seconds` the median of
    the warm ones; each case has its phases and raw timestamps."""
    from tweet_sentiment.commands.gold_steps import ensure_production_model, registry_for
    from tweet_sentiment.engine.client import REMOTE_ENV_VAR
    from tweet_sentiment.engine.server import stop_engine
    from tweet_sentiment.engine.state import read_state

    workdir.mkdir(parents=True, exist_ok=True)
    layout = HomeLayout(Path(tempfile.mkdtemp(prefix="freshness-", dir=workdir)).resolve())
    log_path = layout.root / "dagster-dev.log"
    result: dict[str, Any] = {"home": str(layout.root), "tweets": tweets, "dagster_dev_log": str(log_path)}
    with home_environment(layout) as env:
        env.pop(REMOTE_ENV_VAR, None)  # the home's own engine, so that the first landing finds none running
        started = time.perf_counter()
        instance = dg.DagsterInstance.get()
        model = ensure_production_model(instance, registry_for(layout))
        result["setup_model_s"] = round(time.perf_counter() - started, 3)
        result["model_uri"] = model.uri
    layout.default_source.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + timeout_s + sum(landing.wait_s for landing in landings)
    cases: dict[str, Any] = {}
    try:
        with dagster_dev(env, log_path, layout) as (process, port):
            started = time.time()
            wait_until(lambda: _webserver_up(port), deadline, "the webserver", process, log_path)
            for name in (SOURCE_SENSOR, AUTOMATION_SENSOR):
                wait_until(lambda name=name: bool(sensor_ticks(instance, name)), deadline, f"a first tick of {name}",
                           process, log_path)
            result["setup_dagster_dev_s"] = round(time.time() - started, 3)
            for count, landing in enumerate(landings, start=1):
                time.sleep(landing.wait_s)
                _, landed = land_file(layout.default_source, layout.root / "staging", tweets, seed=landed_seed())
                reflected = wait_until(lambda n=count: mentions_reflect(layout, n), deadline,
                                       f"mention_sentiment to reflect file {count}", process, log_path)
                # The run that committed mention_sentiment writes its last events just after the commit.
                wait_until(lambda t=landed: mentions_run_finished(instance, t), deadline,
                           "the aggregate run to finish", process, log_path)
                cases[landing.name] = collect(instance, landed, reflected, layout) | {"quiet_before_s": landing.wait_s}
        state = read_state(layout)
        if state is not None:
            result["engine_start_s"] = state.start_s
            result["engine_attach_s"] = engine_attach_seconds(env, state.url)
    finally:
        stop_engine(layout)
    result["cases"] = cases
    for landing in landings:
        key = "freshness_seconds" if landing.name == "warm" else f"{landing.name}_freshness_seconds"
        result[key] = cases.get(landing.name, {}).get("freshness_seconds")
    result["warm_median_freshness_seconds"] = warm_median(cases)
    return result

def landed_seed() -> int:
    """A seed that differs between benchmark runs, so the file is never a duplicate of an earlier one."""
    return time.time_ns() % 1_000_000
