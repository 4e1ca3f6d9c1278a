import os
import time

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from tweet_sentiment.defs.resources import TweetSentimentHome
from tweet_sentiment.defs.sensors import source_files_sensor
from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.landing.manifest import Manifest
from tweet_sentiment.settings import HomeLayout


def _tick(instance, home, source_dir, cursor=None, max_files=2, submit=True):
    """One sensor evaluation, applied as the daemon would: partitions added and, unless `submit` is off (a daemon
    that died mid-tick), a run made for each run request."""
    tweet_home = TweetSentimentHome(home=str(home), source=str(source_dir), max_files_per_batch=max_files)
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"tweet_home": tweet_home}) as context:
        result = source_files_sensor(context)
    if submit:
        for request in result.dynamic_partitions_requests:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        for request in result.run_requests:
            instance.add_run(DagsterRun(job_name="batch_pipeline_with_mentions", tags=request.tags))
    return result


def _fresh(*paths, offset_s: int = 3600) -> None:
    """An mtime ahead of the clock is never quiet: the file settles only once two looks see it unchanged, however
    slowly the test runs (no test may depend on how fast the machine writes)."""
    ahead = time.time_ns() + offset_s * 10**9
    for path in paths:
        os.utime(path, ns=(ahead, ahead))


def test_new_files_become_batches_partitions_and_runs_in_one_result(instance, home, source_dir):
    _fresh(*write_source_files(source_dir, tweets=50, files=5))
    (source_dir / ".hidden.json").write_text('{"text": "x"}\n')
    (source_dir / "upload.json.part").write_text('{"text": "x"}\n')

    first = _tick(instance, home, source_dir)
    assert first.run_requests == [] and first.skip_reason is not None  # files must settle first

    second = _tick(instance, home, source_dir, first.cursor)
    keys = [r.partition_key for r in second.run_requests]
    assert len(keys) == 3  # 5 files, at most 2 per batch
    assert sorted(instance.get_dynamic_partitions("batches")) == sorted(keys)
    assert len({r.run_key for r in second.run_requests}) == 3
    manifest = Manifest(HomeLayout.resolve(home).manifest)
    assert sum(len(manifest.batch_files(k)) for k in keys) == 5


def test_half_written_file_waits_until_it_stops_changing(instance, home, source_dir):
    growing = source_dir / "growing.json"
    growing.write_text('{"text": "a"}\n')
    _fresh(growing)
    cursor = _tick(instance, home, source_dir).cursor
    with growing.open("a") as handle:
        handle.write('{"text": "b"}\n')
    _fresh(growing, offset_s=3601)
    result = _tick(instance, home, source_dir, cursor)
    assert result.run_requests == []
    result = _tick(instance, home, source_dir, result.cursor)
    assert len(result.run_requests) == 1


def test_duplicates_are_skipped_and_a_restart_ingests_nothing_twice(instance, home, source_dir):
    _fresh(*write_source_files(source_dir, tweets=20, files=2))
    (source_dir / "copy.json").write_bytes((source_dir / "tweets-42-00000.json").read_bytes())
    _fresh(source_dir / "copy.json", offset_s=3601)  # landed after the original
    cursor = _tick(instance, home, source_dir).cursor
    result = _tick(instance, home, source_dir, cursor)
    assert sum(1 for _ in result.run_requests) == 1  # two distinct files, max two per batch
    duplicates = Manifest(HomeLayout.resolve(home).manifest).duplicates()
    assert [d.file.path.rsplit("/", 1)[1] for d in duplicates] == ["copy.json"]

    # A restart: the daemon comes back with the last cursor, or with none at all.
    for restart_cursor in (result.cursor, None, result.cursor):
        again = _tick(instance, home, source_dir, restart_cursor)
        assert again.run_requests == [] and again.dynamic_partitions_requests == []


def test_a_file_that_landed_whole_a_while_ago_is_ingested_at_the_first_look(instance, home, source_dir):
    [path] = write_source_files(source_dir, tweets=10, files=1)
    quiet = time.time_ns() - 3 * 10**9  # written and renamed into place three seconds before the look
    os.utime(path, ns=(quiet, quiet))
    result = _tick(instance, home, source_dir)
    assert len(result.run_requests) == 1 and result.run_requests[0].job_name in (None, "batch_pipeline_with_mentions")
    assert instance.get_dynamic_partitions("batches") == [result.run_requests[0].partition_key]


def test_batches_registered_by_a_tick_that_died_are_requested_again(instance, home, source_dir):
    write_source_files(source_dir, tweets=10, files=1)
    cursor = _tick(instance, home, source_dir).cursor
    lost = _tick(instance, home, source_dir, cursor, submit=False)  # neither partitions nor runs were made
    assert len(lost.run_requests) == 1
    recovered = _tick(instance, home, source_dir, lost.cursor)
    assert [r.run_key for r in recovered.run_requests] == [r.run_key for r in lost.run_requests]
    assert instance.get_dynamic_partitions("batches") == [lost.run_requests[0].partition_key]
    assert _tick(instance, home, source_dir, recovered.cursor).run_requests == []  # its run exists now


def test_a_tick_over_ten_thousand_files_completes(instance, home, source_dir):
    landed = time.time_ns() - 60 * 10**9  # every file landed a minute ago: all settle at the first look
    for index in range(10_000):
        path = source_dir / f"t{index:05d}.json"
        path.write_text(f'{{"text": "tweet {index}"}}\n')
        os.utime(path, ns=(landed, landed))
    first = _tick(instance, home, source_dir, max_files=500)
    assert len(first.run_requests) == 20 and first.cursor == '{"pending": {}}'
    assert _tick(instance, home, source_dir, first.cursor, max_files=500).run_requests == []


def test_a_link_to_a_file_outside_the_source_folder_is_skipped_and_said(instance, home, source_dir, tmp_path):
    secret = tmp_path / "outside" / "passwd.json"
    secret.parent.mkdir()
    secret.write_text('{"text": "root:x:0:0"}\n')
    (source_dir / "passwd.json").symlink_to(secret)

    first = _tick(instance, home, source_dir)
    second = _tick(instance, home, source_dir, first.cursor)
    assert first.run_requests == [] and second.run_requests == []
    assert "1 links leading outside it skipped" in second.skip_reason.skip_message
    assert Manifest(HomeLayout.resolve(home).manifest).known_files() == {}
