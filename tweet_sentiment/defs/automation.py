"""Declarative automation for the gold side, on by default: re-scoring after a new production model, the batch
metrics after gold, and the aggregates over all batches after any gold partition changes."""

import dagster as dg

gold_automation_sensor = dg.AutomationConditionSensorDefinition(
    "gold_automation_sensor",
    target=dg.AssetSelection.groups("inference", "evaluation", "analytics"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Evaluates the automation conditions of gold, the batch metrics, the evaluation and mention_sentiment.",
)
