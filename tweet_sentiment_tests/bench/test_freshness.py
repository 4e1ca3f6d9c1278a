import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tweet_sentiment.bench.freshness import (
    MENTIONS,
    Milestone,
    RunTimeline,
    breakdown,
    delta_files,
    mentions_reflect,
    warm_median,
    where_time_goes,
)
from tweet_sentiment.settings import HomeLayout


def test_breakdown_orders_milestones_and_sums_to_the_span():
    points = [Milestone("c", 17.5), Milestone("a", 10.0), Milestone("b", 12.25)]
    assert breakdown(points) == {"a -> b": 2.25, "b -> c": 5.25}
    assert sum(breakdown(points).values()) == 7.5


def test_warm_median_takes_the_warm_landings_that_finished():
    cases = {"cold_engine": {"freshness_seconds": 50.0}, "warm": {"freshness_seconds": 16.0},
             "warm_2": {"freshness_seconds": 12.0}, "warm_3": {"freshness_seconds": 13.0},
             "workers_idle": {"freshness_seconds": 1.0}}
    assert warm_median(cases) == 13.0
    assert warm_median(cases | {"warm_3": {"error": "timed out"}}) == 14.0
    assert warm_median({"cold_engine": {"freshness_seconds": 50.0}}) is None


def _run(created: float, start: float, steps: dict[str, tuple[float, float]], mentions: float | None) -> RunTimeline:
    ended = max(end for _, end in steps.values())
    return RunTimeline("r", "job", created, events={"RUN_START": start, "RUN_SUCCESS": ended}, steps=steps,
                       materialized={MENTIONS: mentions} if mentions else {}, inference_seconds=3.0)


def test_phases_with_a_separate_aggregate_run_launched_by_automation():
    batch = _run(112.0, 120.0, {"bronze": (121.0, 130.0), "gold_predictions": (130.0, 140.0)}, None)
    batch.materialized["gold_predictions"] = 139.5
    aggregate = _run(152.0, 160.0, {MENTIONS: (161.0, 170.0)}, 170.5)
    result = where_time_goes(100.0, 171.0, (111.0, 111.5), 105.0, batch, (151.0, 151.5), aggregate, 170.2)
    assert result["freshness_seconds"] == 71.0
    assert result["phases_s"] == {
        "batch_requested": 11.5, "batch_run_queue_and_launch": 8.0, "batch_run_steps": 20.0,
        "wait_for_automation_sensor": 12.5, "aggregate_run_queue_and_launch": 8.0,
        "aggregate_run_until_mentions": 10.5, "commit_to_observed": 0.8}
    assert result["batch_steps_s"] == {"bronze": 9.0, "gold_predictions": 10.0}
    assert result["aggregate_steps_s"] == {MENTIONS: 9.0}
    segments = result["segments_s"]
    assert segments["file landed -> first sensor look (file still settling)"] == 5.0
    assert round(sum(segments.values()), 3) == 71.0


def test_phases_when_the_batch_run_refreshes_mention_sentiment_itself():
    batch = _run(103.0, 104.0, {"bronze": (104.5, 110.0), MENTIONS: (110.0, 113.0)}, 112.8)
    result = where_time_goes(100.0, 113.2, (102.0, 102.5), None, batch, None, batch, 112.6)
    assert set(result["phases_s"]) == {"batch_requested", "batch_run_queue_and_launch", "batch_run_steps",
                                       "commit_to_observed"}
    assert result["aggregate_steps_s"] == {} and result["inference_s"] == 3.0
    assert round(sum(result["segments_s"].values()), 3) == 13.2


def _commit(table: Path, version: int, *actions: dict) -> None:
    log = table / "_delta_log"
    log.mkdir(parents=True, exist_ok=True)
    lines = [{"commitInfo": {"timestamp": 1000 * (version + 1)}}, *actions]
    (log / f"{version:020d}.json").write_text("\n".join(json.dumps(a) for a in lines) + "\n")


def _add(path: str, batch: str | None = None, rows: int = 0) -> dict:
    return {"add": {"path": path, "partitionValues": {"batch": batch} if batch else {},
                    "stats": json.dumps({"numRecords": rows})}}


def test_delta_files_replays_adds_and_removes(tmp_path):
    _commit(tmp_path, 0, _add("a.parquet"), _add("b.parquet"))
    _commit(tmp_path, 1, {"remove": {"path": "a.parquet"}}, _add("c.parquet"))
    assert sorted(delta_files(tmp_path)) == ["b.parquet", "c.parquet"]


def test_mention_sentiment_reflects_the_batch_only_once_it_counts_every_gold_row(tmp_path):
    layout = HomeLayout(tmp_path)
    gold, mentions = layout.table("gold_predictions"), layout.table(MENTIONS)
    _commit(gold, 0, _add("batch=b1/part-0.parquet", "b1", rows=5))
    mentions.mkdir(parents=True)
    pq.write_table(pa.table({"mention": ["x", "y"], "total": [2, 1]}), mentions / "v0.parquet")
    _commit(mentions, 0, _add("v0.parquet"))
    assert not mentions_reflect(layout, 1)  # counts 3 of gold's 5 rows: built before the batch landed
    pq.write_table(pa.table({"mention": ["x", "y"], "total": [3, 2]}), mentions / "v1.parquet")
    _commit(mentions, 1, {"remove": {"path": "v0.parquet"}}, _add("v1.parquet"))
    assert mentions_reflect(layout, 1)
    assert not mentions_reflect(layout, 2)  # gold holds one batch, not two
