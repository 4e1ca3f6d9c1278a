"""The landing watcher: finished files are seen at once, registered and their runs submitted once; the sensor never
requests a batch the watcher claimed, and takes over one whose submission failed."""

import os

from dagster._core.storage.dagster_run import DagsterRun

from tweet_sentiment.commands.landing_watcher import REQUESTER, launch_finished, run_tags
from tweet_sentiment.defs.resources import TweetSentimentHome
from tweet_sentiment.defs.sensors import RUN_KEY_TAG
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.landing.watcher import watch
from tweet_sentiment_tests.defs.test_sensors import _fresh, _tick


def _home(home, source_dir) -> TweetSentimentHome:
    return TweetSentimentHome(home=str(home), source=str(source_dir), max_files_per_batch=2)


def test_files_closed_after_writing_or_renamed_in_are_reported(tmp_path):
    source, staging = tmp_path / "source", tmp_path / "staging"
    (source / ".hidden").mkdir(parents=True)
    staging.mkdir()
    (staging / "staged.json").write_text('{"text": "d"}\n')
    finished, observer = watch(source)
    try:
        (source / "written.json").write_text('{"text": "a"}\n')
        (source / "notes.txt").write_text("not a source file\n")
        (source / ".hidden" / "inside.json").write_text('{"text": "b"}\n')
        (source / "upload.json.tmp").write_text('{"text": "c"}\n')
        os.rename(source / "upload.json.tmp", source / "upload.json")
        os.rename(staging / "staged.json", source / "staged.json")  # from outside the watched folder
        expected = {str(source / name) for name in ("written.json", "upload.json", "staged.json")}
        seen: set[str] = set()
        while len(seen) < len(expected):
            got = finished.take(timeout_s=30)
            assert got, f"only {seen} reported"
            seen |= got
        assert seen == expected
        assert finished.take(timeout_s=0.5) == set()
    finally:
        observer.stop()
        observer.join()


def test_a_finished_file_runs_at_once_and_the_sensor_leaves_it(instance, home, source_dir):
    paths = write_source_files(source_dir, tweets=40, files=3)
    _fresh(*paths)  # not settled by age: only the watcher's word settles them
    submitted = []

    def submit(batch):
        submitted.append(batch)
        instance.add_run(DagsterRun(job_name="batch_pipeline_with_mentions", tags=run_tags(batch)))
        return "run"

    launched = launch_finished(_home(home, source_dir), instance, {str(p) for p in paths}, submit)

    assert [b.key for b in launched] == [b.key for b in submitted] and len(launched) == 2  # 3 files, 2 per batch
    assert sorted(instance.get_dynamic_partitions("batches")) == sorted(b.key for b in launched)
    assert sum(len(b.files) for b in launched) == 3
    assert all(run_tags(b)["dagster/partition"] == b.key for b in launched)
    # Two looks of the sensor: nothing more to request, nothing registered twice.
    first = _tick(instance, home, source_dir)
    assert _tick(instance, home, source_dir, first.cursor).run_requests == []
    assert launch_finished(_home(home, source_dir), instance, {str(p) for p in paths}, submit) == []
    assert len(submitted) == 2


def test_the_sensor_does_not_request_a_batch_the_watcher_claimed_before_its_run_exists(instance, home, source_dir):
    paths = write_source_files(source_dir, tweets=20, files=1)
    _fresh(*paths)
    pending = []
    launched = launch_finished(_home(home, source_dir), instance, {str(paths[0])}, lambda b: pending.append(b))
    assert len(launched) == 1

    # The run is being created (GraphQL submission under way): the sensor must not request it too.
    assert _tick(instance, home, source_dir).run_requests == []


def test_a_failed_submission_leaves_the_batch_to_the_sensor(instance, home, source_dir):
    paths = write_source_files(source_dir, tweets=20, files=1)
    _fresh(*paths)

    def unreachable(batch):
        raise ConnectionError("webserver not up")

    assert launch_finished(_home(home, source_dir), instance, {str(paths[0])}, unreachable) == []
    [request] = _tick(instance, home, source_dir).run_requests
    assert request.tags[RUN_KEY_TAG].startswith("batch:") and REQUESTER not in request.tags.values()
