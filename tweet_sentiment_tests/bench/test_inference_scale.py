"""The inference and scale benchmarks on a real (temporary) home with a tiny registered model."""

from pathlib import Path

import pytest

from tweet_sentiment.bench.inference import bench_inference
from tweet_sentiment.bench.scale import FRESHNESS_TWEETS, bench_scale, cost_growth
from tweet_sentiment.bench.workspace import BenchHome
from tweet_sentiment_tests.gold_helpers import register_tiny


@pytest.fixture
def bench_home(tmp_path: Path, spark, monkeypatch) -> BenchHome:
    for name in ("TWEET_SENTIMENT_HOME", "TWEET_SENTIMENT_SOURCE", "DAGSTER_HOME"):
        monkeypatch.setenv(name, "")  # restored after the test: BenchHome points the process at its own home
    home = BenchHome.create(tmp_path / "bench")
    register_tiny(home.layout.root)
    return home


@pytest.mark.slow
def test_inference_bench_scores_new_batches_the_same_three_ways(bench_home: BenchHome):
    result = bench_inference(bench_home, tweets=120, repeats=1)

    # The untimed warm-up batch and the timed one, each scored as a new partition.
    (timed,) = result["timed_batches"]
    gold = bench_home.table("gold_predictions")
    assert gold.select("batch").distinct().count() == 2
    gold = gold.where(gold.batch == timed)
    silver = bench_home.table("silver_mentions")
    assert result["silver_rows"] == gold.count() == silver.where(silver.batch == timed).count()
    assert result["distinct_texts"] == gold.select("cleaned_text").distinct().count()
    assert result["gold_first_run_s"] > 0 and result["gold_rescore_s"] > 0
    for part in ("gold", "pipeline", "bare_forward"):
        assert result[part]["items"] == result["distinct_texts"]
        assert result[part]["per_s_median"] > 0
    expected = result["pipeline"]["median_s"] / result["gold"]["median_s"]
    assert result["inference_vs_pipeline"] == pytest.approx(expected)


@pytest.mark.slow
def test_scale_bench_runs_each_wave_as_new_batches(bench_home: BenchHome):
    seen = []
    result = bench_scale(bench_home, tweets=300, files=4, waves=2, scored_waves=frozenset({1}), on_wave=seen.append)

    assert [row["wave"] for row in seen] == [0, 1]
    # The waves' tweets, plus two small files before them (cold, then warm) and one after for freshness.
    assert bench_home.table("bronze_tweets").count() == 300 + 3 * FRESHNESS_TWEETS
    assert bench_home.table("bronze_tweets").select("batch").distinct().count() == sum(r["batches"] for r in seen) + 3
    assert len(result["seconds_per_batch"]) == 2 and result["peak_rss_mb"] > 100  # the JVM alone is bigger
    assert 0 < result["uss_at_peak_rss_mb"] <= result["peak_rss_mb"] and result["peak_pss_mb"] > 0
    assert [row["gold_s"] is not None for row in seen] == [False, True]
    assert [row["aggregate_s"] is not None for row in seen] == [False, True]
    assert bench_home.table("gold_predictions").select("batch").distinct().count() == seen[1]["batches"] + 3
    assert result["freshness_cold_s"] > 0 and result["freshness_start_s"] > 0 and result["freshness_end_s"] > 0
    assert "sampled" in result["inference"]
    gold = bench_home.table("gold_predictions")
    assert bench_home.table("mention_sentiment").groupBy().sum("total").first()[0] == gold.count()
    assert set(result["delta_files_after_maintain"]) == set(result["delta_files_before_maintain"])
    assert all(result["delta_files_after_maintain"][t] <= n for t, n in result["delta_files_before_maintain"].items())


def test_cost_growth_ignores_the_warm_up_wave():
    assert cost_growth([50.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0]) == pytest.approx(1.0)
    assert cost_growth([50.0, 10.0, 10.0, 10.0, 20.0, 20.0, 20.0]) == pytest.approx(2.0)
    assert cost_growth([10.0, 10.0]) is None
