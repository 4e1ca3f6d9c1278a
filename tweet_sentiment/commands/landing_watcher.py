"""The landing watcher beside `tweet-sentiment dev`: a file that lands is registered and its batch run submitted at
once, instead of at the sensor's next tick (the sensor daemon loops every 5 s at best) and second look.

It is a fast lane, not a second pipeline: registration is the manifest's one transaction, a batch's run is claimed in
the manifest by one requester (this watcher or the sensor, never both), and the sensor stays the safety net: it
requests what the watcher missed (a file that appeared while the watcher was down, a claim whose run was never
created). `python -m tweet_sentiment.commands.landing_watcher HOME SOURCE WEBSERVER_URL`.
"""

import logging
import subprocess
import sys
from collections.abc import Callable, Collection
from pathlib import Path
from urllib.parse import urlparse

import dagster as dg

from tweet_sentiment.commands.cli_runs import LAUNCHED_BY_TAG
from tweet_sentiment.defs.bronze import modified_files_evaluation
from tweet_sentiment.defs.partitions import batches
from tweet_sentiment.defs.resources import TweetSentimentHome, allow_overwrites_from_env
from tweet_sentiment.defs.sensors import BATCH_TAG, CLAIM_STALE_S, RUN_KEY_TAG, has_run
from tweet_sentiment.landing.discovery import DiscoveryLimits, discover
from tweet_sentiment.landing.manifest import Batch
from tweet_sentiment.settings import HomeLayout

log = logging.getLogger(__name__)

REQUESTER = "landing_watcher"
JOB = "batch_pipeline_with_mentions"

Submit = Callable[[Batch], str]


def run_tags(batch: Batch) -> dict[str, str]:
    """The tags the sensor's run requests carry, plus the partition (GraphQL submissions name it by tag)."""
    return {"dagster/partition": batch.key, BATCH_TAG: batch.key, RUN_KEY_TAG: batch.revision_run_key,
            LAUNCHED_BY_TAG: REQUESTER}


def launch_finished(home: TweetSentimentHome, instance: dg.DagsterInstance, finished: Collection[str],
                    submit: Submit) -> list[Batch]:
    """Register the finished files (and any other settled new file) and submit a run for each new batch this
    watcher could claim; a claim whose submission failed is released for the sensor. Returns the batches run."""
    manifest = home.manifest()
    limits = DiscoveryLimits(home.max_files_per_batch, home.max_bytes_per_batch)
    found = discover(manifest, home.source_dir, None, limits, allow_overwrites=home.allow_overwrites,
                     closed=finished, allow_outside_links=home.allow_outside_links)
    if found.registration.modified:
        instance.report_runless_asset_event(modified_files_evaluation(manifest.modified()))
    launched = []
    for batch in found.registration.batches:
        if has_run(instance, batch.revision_run_key) or not manifest.claim_run(
                batch.revision_run_key, REQUESTER, CLAIM_STALE_S):
            continue
        instance.add_dynamic_partitions(batches.name, [batch.key])
        try:
            submit(batch)
        except Exception:
            manifest.release_claim(batch.revision_run_key, REQUESTER)
            log.exception(f"could not submit the run of batch {batch.key}; the sensor will request it")
            continue
        launched.append(batch)
    return launched


def graphql_submit(webserver_url: str) -> Submit:
    """Submit a batch's run through the Dagster webserver (queued, then launched by the daemon like the sensor's)."""
    from dagster_graphql import DagsterGraphQLClient

    address = urlparse(webserver_url)
    client = DagsterGraphQLClient(address.hostname, port_number=address.port, timeout=30)
    return lambda batch: client.submit_job_execution(JOB, tags=run_tags(batch))


def serve(home: str, source: str, webserver_url: str) -> None:
    """Watch the source folder until killed (the supervisor ends this process with `dev`)."""
    from tweet_sentiment.landing.watcher import watch

    resource = TweetSentimentHome(home=home, source=source or None, allow_overwrites=allow_overwrites_from_env())
    resource.source_dir.mkdir(parents=True, exist_ok=True)
    instance, submit = dg.DagsterInstance.get(), graphql_submit(webserver_url)
    finished, observer = watch(resource.source_dir)
    log.info(f"watching {resource.source_dir}; runs go to {webserver_url}")
    try:
        while True:
            paths = finished.take(timeout_s=None)
            for batch in launch_finished(resource, instance, paths, submit):
                log.info(f"batch {batch.key}: {len(batch.files)} files, run submitted")
    finally:
        observer.stop()


def start_landing_watcher(layout: HomeLayout, source: Path | None, webserver_url: str, watch_pid: int,
                          env: dict[str, str] | None = None) -> subprocess.Popen:
    """The watcher in the background, alive as long as `watch_pid` is; its log is `<home>/state/landing-watcher.log`."""
    command = [sys.executable, "-m", "tweet_sentiment.engine.supervise", "--watch", str(watch_pid), "--",
               sys.executable, "-m", "tweet_sentiment.commands.landing_watcher", str(layout.root),
               str(source or ""), webserver_url]
    layout.state.mkdir(parents=True, exist_ok=True)
    with (layout.state / "landing-watcher.log").open("ab") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    serve(*sys.argv[1:4])
