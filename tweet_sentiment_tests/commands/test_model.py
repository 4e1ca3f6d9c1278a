"""The `tweet-sentiment model` commands: register, predict (JSON lines in and out), errors a user can act on."""

import json
from pathlib import Path

from click.testing import CliRunner

from tweet_sentiment.commands.model import model
from tweet_sentiment_tests.tiny_model import build_tiny_model


def test_register_then_predict(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = build_tiny_model(tmp_path / "m", {0: "negative", 1: "neutral", 2: "positive"}, bias=[4.0, 0.0, 0.0])
    runner = CliRunner()
    registered = runner.invoke(model, ["register", "--home", str(home), "--source", str(folder)])
    assert registered.exit_code == 0, registered.output
    assert "HF_TWEET_SENTIMENT registered version 1" in registered.output
    again = runner.invoke(model, ["register", "--home", str(home), "--source", str(folder)])
    assert "already registered as version 1" in again.output

    source = tmp_path / "in.jsonl"
    rows = [{"id": 1, "text": "i hate this"}, {"id": 2, "text": ""}, {"id": 3, "user": "x"}, {"id": 4, "text": "ok"}]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    out = tmp_path / "out.jsonl"
    scored = runner.invoke(model, ["predict", "--home", str(home), "--input", str(source), "--output", str(out),
                                   "--batch-size", "2", "--chunk-size", "3"])
    assert scored.exit_code == 0, scored.output
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in written] == [1, 2, 3, 4]
    assert [r["predicted_sentiment"] for r in written] == ["NEG", "NEU", "NEU", "NEG"]
    assert written[1]["predicted_score"] == 1.0
    assert 0.9 < written[0]["predicted_score"] < 1.0
    assert written[2]["user"] == "x"
    assert len(list((home / "mlflow" / "model_cache").glob("HF_TWEET_SENTIMENT-v1-*/MLmodel"))) == 1

    source.write_text('{"text": "ok"}\n{"text": \n')
    bad = runner.invoke(model, ["predict", "--home", str(home), "--input", str(source), "--output", str(out)])
    assert bad.exit_code == 1
    assert "in.jsonl:2: not JSON" in bad.output


def test_predict_without_registered_model_fails_clearly(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "hi"}\n')
    result = CliRunner().invoke(model, ["predict", "--home", str(tmp_path / "home"), "--input", str(source),
                                        "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code != 0
    assert "model register" in str(result.exception)


def test_register_offline_hub_id_fails_clearly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(model, ["register", "--home", str(tmp_path), "--source",
                                        "finiteautomata/bertweet-base-sentiment-analysis"])
    assert result.exit_code != 0
    assert "HF_HUB_OFFLINE" in str(result.exception)
