"""Spark settings: the Delta JARs resolved once by Ivy are loaded directly by later sessions."""

from pathlib import Path

from tweet_sentiment.engine.spark_config import (
    delta_packages,
    delta_spark_config,
    remember_delta_jars,
    resolved_delta_jars,
)


def test_resolved_jars_are_reused_while_they_exist(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    packages = delta_packages()
    assert resolved_delta_jars(packages) is None
    assert "spark.jars.packages" in delta_spark_config()

    jars = [tmp_path / "a.jar", tmp_path / "b.jar"]
    for jar in jars:
        jar.write_bytes(b"jar")
    remember_delta_jars(",".join(f"file://{j}" for j in jars), packages)
    config = delta_spark_config()
    assert config["spark.jars"] == ",".join(f"file://{j}" for j in jars) and "spark.jars.packages" not in config

    jars[1].unlink()  # a cleaned Ivy cache: resolve again
    assert resolved_delta_jars(packages) is None and "spark.jars.packages" in delta_spark_config()


def test_remote_jars_are_not_remembered(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    remember_delta_jars("spark://host/a.jar", delta_packages())
    assert resolved_delta_jars(delta_packages()) is None
