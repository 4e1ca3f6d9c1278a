"""The outputs of a medallion layer: its own Delta table plus its slice of the shared `quarantine` table."""

import dagster as dg

from tweet_sentiment.lakehouse.table_names import QUARANTINE_TABLE


def layer_outs(layer: str, table: str, table_description: str, quarantine_description: str) -> dict[str, dg.AssetOut]:
    """`<table>` partitioned by batch, and `<layer>_quarantine`: the rows of `quarantine` where layer = <layer>."""
    common = {"io_manager_key": "delta_io_manager", "group_name": "ingestion", "kinds": {"spark", "delta"}}
    return {
        table: dg.AssetOut(metadata={"partition_expr": "batch"}, description=table_description, **common),
        f"{layer}_quarantine": dg.AssetOut(
            metadata={"partition_expr": "batch", "delta_table": QUARANTINE_TABLE, "table_slice": {"layer": layer}},
            description=f"{quarantine_description} Rows of the shared `{QUARANTINE_TABLE}` table where "
                        f"layer = {layer}.", **common),
    }
