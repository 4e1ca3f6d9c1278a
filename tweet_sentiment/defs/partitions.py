"""The batch partitions: one dynamic partition per group of source files ingested together."""

import dagster as dg

batches = dg.DynamicPartitionsDefinition(name="batches")
