"""The pandas UDF body that scores on Spark's Python workers: one model load per worker and model folder."""

import pandas as pd

from tweet_sentiment.model import spark_scoring


class _CountingModel:
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"predicted_sentiment": ["POS"] * len(frame), "predicted_score": [0.9] * len(frame),
                             "extra": 1})


def test_model_is_loaded_once_per_worker_not_per_batch(monkeypatch, tmp_path):
    loads = []
    monkeypatch.setattr(spark_scoring.mlflow.pyfunc, "load_model", lambda path: loads.append(path) or _CountingModel())
    monkeypatch.setattr(spark_scoring, "_MODELS", {})
    batches = iter([pd.Series(["a", "b"]), pd.Series(["c"]), pd.Series(["d", "e", "f"])])

    outputs = list(spark_scoring.score_batches(str(tmp_path / "v1"), 0, batches))
    again = list(spark_scoring.score_batches(str(tmp_path / "v1"), 0, iter([pd.Series(["g"])])))
    list(spark_scoring.score_batches(str(tmp_path / "v2"), 0, iter([pd.Series(["h"])])))

    assert loads == [str(tmp_path / "v1"), str(tmp_path / "v2")]  # once per model folder, not per Arrow batch
    assert [len(o) for o in outputs + again] == [2, 1, 3, 1]
    assert list(outputs[0].columns) == ["predicted_sentiment", "predicted_score", "model_loads"]
    # The load is counted once, on the first row of the first batch that paid it.
    assert [o["model_loads"].tolist() for o in outputs + again] == [[1, 0], [0], [0, 0, 0], [0]]
