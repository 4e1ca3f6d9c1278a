"""The sentiment model: labels, text normalisation, training, sources, MLflow registration and scoring."""
