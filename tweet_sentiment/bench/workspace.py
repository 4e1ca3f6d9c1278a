"""A throw-away project home for benchmarks: the real code location, instance, model and source folder."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pyspark.sql import DataFrame, SparkSession

from tweet_sentiment.landing.generate import write_source_files
from tweet_sentiment.model.spark_scoring import ModelRef
from tweet_sentiment.settings import HomeLayout

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class BenchHome:
    """One home folder with its Dagster instance and the code location's Definitions, as `tweet-sentiment run` uses."""

    layout: HomeLayout
    source: Path
    instance: dg.DagsterInstance
    defs: dg.Definitions

    @classmethod
    def create(cls, root: Path) -> "BenchHome":
        """A fresh home under `root` (source folder `root/source`), with this process pointed at it."""
        from tweet_sentiment.definitions import defs
        from tweet_sentiment.instance import open_instance

        layout = HomeLayout.resolve(root / "home")
        source = root / "source"
        source.mkdir(parents=True, exist_ok=True)
        instance = open_instance(layout, source)
        return cls(layout, source, instance, defs())

    @property
    def spark(self) -> SparkSession:
        return self.defs.resources["pyspark"].spark_session

    def production_model(self) -> ModelRef:
        """The production model, registering the builtin one first when the registry is empty."""
        from tweet_sentiment.commands.gold_steps import ensure_production_model, registry_for

        return ensure_production_model(self.instance, registry_for(self.layout))

    def land(self, tweets: int, files: int, seed: int, prefix: str = "tweets") -> list[Path]:
        """Write generated tweet files into the source folder (distinct seeds give distinct content)."""
        return write_source_files(self.source, tweets=tweets, files=files, seed=seed, prefix=prefix)

    def ingest(self) -> list[str]:
        """Look at the source folder as the sensor does until the landed files become batches; their keys."""
        from tweet_sentiment.commands.batches import look_for_batches

        return look_for_batches(self.defs, self.instance, self.layout, settle_seconds=1.0, max_looks=30).new_batches

    def materialize(self, batch: str | None, assets: list[dg.AssetKey], job: str = "batch_pipeline") -> None:
        """Materialize `assets` of `job` (for one batch when given) in this process; raises when the run fails."""
        self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, partition_key=batch, asset_selection=assets, run_config=QUIET)

    def table(self, name: str) -> DataFrame:
        return self.spark.read.format("delta").load(str(self.layout.table(name)))
