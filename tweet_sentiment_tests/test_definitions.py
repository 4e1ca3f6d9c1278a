import subprocess
import sys

import dagster as dg

from tweet_sentiment.definitions import defs


def test_definitions_load_with_the_graph_the_sensor_and_the_job():
    definitions = defs()
    keys = {k.to_user_string() for k in definitions.resolve_asset_graph().get_all_asset_keys()}
    assert {"bronze_tweets", "bronze_quarantine", "silver_mentions", "silver_quarantine"} <= keys
    assert definitions.resolve_sensor_def("source_files_sensor").job_name == "batch_pipeline_with_mentions"
    job = definitions.resolve_job_def("batch_pipeline")
    assert job.partitions_def == dg.DynamicPartitionsDefinition(name="batches")
    sensor_job = definitions.resolve_job_def("batch_pipeline_with_mentions")
    assert sensor_job.partitions_def == job.partitions_def
    sensor_assets = {k.to_user_string() for k in sensor_job.asset_layer.executable_asset_keys}
    assert sensor_assets == {k.to_user_string() for k in job.asset_layer.executable_asset_keys} | {
        "mention_sentiment_partials", "mention_sentiment"}
    aggregates = definitions.resolve_job_def("gold_aggregates").asset_layer.executable_asset_keys
    assert {k.to_user_string() for k in aggregates} == {"mention_sentiment", "sentiment_evaluation"}
    assert definitions.resolve_schedule_def("lakehouse_maintenance_schedule").default_status == (
        dg.DefaultScheduleStatus.STOPPED)
    assert {"lakehouse_maintenance", "lakehouse_reset"} <= {j.name for j in definitions.resolve_all_job_defs()}
    assert {"tweet_home", "pyspark", "delta_io_manager"} <= set(definitions.resources)


def test_loading_the_definitions_does_not_import_torch_or_transformers():
    """Every run and code server loads the definitions; the network libraries load only where a model scores."""
    probe = ("import sys; from tweet_sentiment.definitions import defs; defs(); "
             "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_batch_run_brings_mention_sentiment_up_to_date_before_the_batch_metrics():
    """The in-process executor's order for the sensor's job, replayed step by step without running anything."""
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.execution.plan.outputs import StepOutputHandle
    from dagster._core.execution.retries import RetryMode

    plan = create_execution_plan(defs().resolve_job_def("batch_pipeline_with_mentions"))
    order = []
    with plan.start(retry_mode=RetryMode.DISABLED) as active:
        while not active.is_complete and (step := active.get_next_step()) is not None:
            order.append(step.key)
            for output in step.step_outputs:
                active.mark_step_produced_output(StepOutputHandle(step.key, output.name))
            active.mark_success(step.key)
    assert order.index("gold_predictions") < order.index("mention_sentiment_partials")
    assert order.index("mention_sentiment") < order.index("sentiment_batch_metrics")
