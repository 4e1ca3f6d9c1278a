"""The maintenance and reset jobs, as the UI launches them: metadata per table, and a reset that leaves only its
own run behind."""

import dagster as dg

from tweet_sentiment.defs.maintenance import lakehouse_maintenance, lakehouse_reset, longest_run_hours
from tweet_sentiment.landing.manifest import Manifest
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.gold_helpers import gold_row, write_gold


def test_maintenance_job_reports_files_per_table(resources, instance, home, spark):
    write_gold(spark, home, [gold_row("b1", "al", None, "POS")])
    result = lakehouse_maintenance.execute_in_process(instance=instance, resources=resources)
    assert result.success
    (row,) = result.output_for_node("maintain_tables")
    assert (row["table"], row["files_before"], row["files_after"]) == ("gold_predictions", 1, 1)
    (event,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
    metadata = event.step_output_data.metadata
    assert "| gold_predictions | 1 -> 1 |" in metadata["tables"].value and metadata["vacuum_hours"].value == 168.0


def test_longest_run_hours_counts_runs_in_progress_only(instance):
    assert longest_run_hours(instance) == 0.0
    run = instance.create_run_for_job(lakehouse_maintenance)
    instance.report_run_failed(run)
    assert longest_run_hours(instance) == 0.0


def test_reset_job_empties_the_home_but_not_the_source(resources, instance, home, source_dir, spark):
    layout = HomeLayout.resolve(home)
    write_gold(spark, home, [gold_row("b1", "al", None, "POS")])
    Manifest(layout.manifest)  # creates the manifest file
    (source_dir / "tweets.json").write_text('{"text": "hi"}\n')
    (layout.mlflow).mkdir(parents=True)
    instance.add_dynamic_partitions("batches", ["b1", "b2"])
    instance.report_runless_asset_event(dg.AssetMaterialization("gold_predictions", partition="b1"))
    earlier = lakehouse_maintenance.execute_in_process(instance=instance, resources=resources)

    result = lakehouse_reset.execute_in_process(instance=instance, resources=resources)
    assert result.success
    assert not layout.table("gold_predictions").exists() and not layout.manifest.exists()
    assert instance.get_dynamic_partitions("batches") == []
    assert [r.dagster_run.run_id for r in instance.get_run_records()] == [result.run_id]
    assert instance.get_run_by_id(earlier.run_id) is None
    assert instance.get_latest_materialization_event(dg.AssetKey("gold_predictions")) is None
    assert (source_dir / "tweets.json").read_text() == '{"text": "hi"}\n' and layout.mlflow.is_dir()
