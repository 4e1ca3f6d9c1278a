"""The MLflow pyfunc wrapper: a HuggingFace folder in, DataFrame[predicted_sentiment, predicted_score] out."""

from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from tweet_sentiment.model.classifier import SentimentClassifier
from tweet_sentiment.model.contract import (
    DEFAULT_MODEL_CONFIG,
    MODEL_ARTIFACT,
    TEXT,
)
from tweet_sentiment.model.scoring import score_texts


def input_texts(model_input: Any) -> list[str | None]:
    """Texts from a DataFrame with a `text` column, a Series, an array or a list of strings."""
    if isinstance(model_input, pd.DataFrame):
        if TEXT in model_input.columns:
            column = model_input[TEXT]
        elif len(model_input.columns) == 1:
            column = model_input.iloc[:, 0]
        else:
            raise ValueError(f"expected a DataFrame with a {TEXT!r} column, got columns {list(model_input.columns)}")
        return [t if isinstance(t, str) else None for t in column.tolist()]
    if isinstance(model_input, str):
        return [model_input]
    if isinstance(model_input, (pd.Series, np.ndarray, list, tuple)):
        return [t if isinstance(t, str) else None for t in list(model_input)]
    raise TypeError(f"cannot score {type(model_input).__name__}; pass a DataFrame with a {TEXT!r} column or strings")


class SentimentPyfunc(mlflow.pyfunc.PythonModel):
    """Scores tweets with the bundled HuggingFace classifier through the project's shared scoring path."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        config = {**DEFAULT_MODEL_CONFIG, **(context.model_config or {})}
        if int(config["threads"]) > 0:
            torch.set_num_threads(int(config["threads"]))
        path = context.artifacts[MODEL_ARTIFACT]
        model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.batch_size = int(config["batch_size"])
        self.classifier = SentimentClassifier(model, tokenizer, max_length=int(config["max_length"]),
                                              precision=str(config["precision"]))

    # model_input is deliberately unannotated: MLflow turns a predict type hint into its own input validation,
    # which would override the explicit signature (DataFrame with a `text` column) logged with the model.
    def predict(self, context: mlflow.pyfunc.PythonModelContext | None, model_input,
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        """DataFrame[predicted_sentiment (NEG/NEU/POS), predicted_score (probability, 0-1)], one row per text."""
        batch_size = int((params or {}).get("batch_size", self.batch_size))
        return score_texts(self.classifier, input_texts(model_input), batch_size=batch_size)
