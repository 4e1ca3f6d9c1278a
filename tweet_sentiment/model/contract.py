"""What the registered model takes and returns: column names, signature, input example, default model config.

Kept free of torch and transformers, so that loading the Dagster definitions (every run and code server does)
does not import them; only scoring and registration do.
"""

from typing import Any

import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

TEXT = "text"
PREDICTED_SENTIMENT = "predicted_sentiment"
PREDICTED_SCORE = "predicted_score"
MODEL_ARTIFACT = "model"
DEFAULT_MODEL_CONFIG: dict[str, Any] = {"batch_size": 64, "max_length": 128, "precision": "auto", "threads": 0}

SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", TEXT)]),
    outputs=Schema([ColSpec("string", PREDICTED_SENTIMENT), ColSpec("double", PREDICTED_SCORE)]),
    params=ParamSchema([ParamSpec("batch_size", "long", DEFAULT_MODEL_CONFIG["batch_size"])]),
)
INPUT_EXAMPLE = pd.DataFrame({TEXT: ["I love this, best day ever!", "@user the update broke everything again",
                                     "Meeting moved to 3pm http://t.co/x"]})
