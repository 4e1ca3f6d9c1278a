"""The result document: headline keys, the markdown table, a failing part kept apart from the others."""

from tweet_sentiment.bench.machine import describe_machine
from tweet_sentiment.bench.suite import FULL, QUICK, _section, default_output, headline, markdown_rows


def test_headline_has_every_comparison_key_even_when_parts_fail():
    parts = {"inference": {"inference_vs_pipeline": 1.6, "inference_vs_bare_forward": 1.1},
             "bronze_silver": {"error": "boom"},
             "freshness": {"freshness_seconds": 21.5, "warm_median_freshness_seconds": 14.75,
                           "cold_engine_freshness_seconds": 33.25}}
    result = headline(parts)

    assert result == {"inference_vs_pipeline": 1.6, "inference_vs_bare_forward": 1.1,
                      "bronze_silver_vs_pandas": None, "bronze_silver_vs_polars": None,
                      "two_delta_appends_vs_pandas": None,
                      "freshness_seconds": 21.5, "warm_median_freshness_seconds": 14.75,
                      "cold_engine_freshness_seconds": 33.25,
                      "workers_idle_freshness_seconds": None, "scale": None}
    table = "\n".join(markdown_rows(result))
    assert "| 1.60x |" in table and "| 21.50 s |" in table and "| 33.25 s |" in table and "| 14.75 s |" in table
    assert "failed / not run" in table and "idled out" not in table


def test_scale_appears_in_the_headline_with_its_list():
    result = headline({"scale": {"peak_rss_mb": 900.0, "seconds_per_100k": [30.0, 20.0, 21.0], "growth": 1.05,
                                 "seconds_per_batch": [12.0, 12.5], "freshness_start_s": 9.0,
                                 "freshness_end_s": 10.0, "waves_detail": ["not in the headline"]}})
    assert result["scale"]["seconds_per_100k"] == [30.0, 20.0, 21.0] and result["scale"]["growth"] == 1.05
    assert "waves_detail" not in result["scale"]
    table = "\n".join(markdown_rows(result))
    assert "12.0 -> 12.5 (growth 1.05x)" in table and "9.00 s -> 10.00 s" in table
    assert any("30.0 -> 21.0" in row for row in markdown_rows(result))


def test_a_failing_part_is_recorded_not_raised():
    results, steps = {}, []
    _section(results, "inference", steps.append, lambda: 1 / 0)
    _section(results, "freshness", steps.append, lambda: {"freshness_seconds": 3.0})

    assert results["inference"]["error"].startswith("ZeroDivisionError")
    assert results["freshness"]["freshness_seconds"] == 3.0
    assert len(steps) == 4


def test_outputs_and_profiles():
    assert default_output(FULL).name.endswith(".json") and "-quick" not in default_output(FULL).name
    assert default_output(QUICK).name.endswith("-quick.json")
    assert QUICK.scale_tweets == 0 and FULL.scale_tweets == 1_000_000 and FULL.ingestion_tweets == 100_000


def test_machine_description():
    machine = describe_machine()
    assert machine["cores"] >= 1 and machine["memory_gb"] > 0 and machine["packages"]["dagster"]
