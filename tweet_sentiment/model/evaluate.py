"""Dev-set evaluation: macro-averaged recall (the task's metric), per-class recall, confusion matrix."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

from tweet_sentiment.model.classifier import SentimentClassifier
from tweet_sentiment.model.labels import LABELS
from tweet_sentiment.model.scoring import predict_proba
from tweet_sentiment.model.sources import LoadedSource

REPORT_FILE = "training_report.json"


def evaluate(loaded: LoadedSource, frame: pd.DataFrame, logits_only: bool = False,
             precision: str = "fp32") -> dict | np.ndarray:
    """Metrics of a model on a labelled frame[text, label]; with logits_only, the log-probabilities instead."""
    classifier = SentimentClassifier(loaded.model, loaded.tokenizer, max_length=128, precision=precision)
    probs = predict_proba(classifier, frame["text"].tolist(), batch_size=128)
    if logits_only:
        return np.log(np.clip(probs, 1e-12, 1.0))
    truth = frame["label"].map(LABELS.index).to_numpy()
    predicted = probs.argmax(axis=1)
    recalls = recall_score(truth, predicted, labels=range(len(LABELS)), average=None)
    nll = float(-np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-12, 1.0)).mean())
    return {
        "macro_recall": round(float(recalls.mean()), 4),
        "recall": {label: round(float(r), 4) for label, r in zip(LABELS, recalls, strict=True)},
        "f1_pn": round(float(f1_score(truth, predicted, labels=[0, 2], average="macro")), 4),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "nll": round(nll, 4),
        "confusion_matrix": {"labels": list(LABELS),
                             "rows_true_cols_predicted": confusion_matrix(truth, predicted, labels=range(3)).tolist()},
    }


def write_report(report: dict, out_dir: Path) -> Path:
    """Write the training report as JSON next to the adapter."""
    path = out_dir / REPORT_FILE
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def dev_metrics(loaded: LoadedSource, data_dir: Path | None = None) -> dict | None:
    """Dev-set metrics: measured on DATA_DIR's dev file if given, else the builtin's shipped report, else None."""
    from tweet_sentiment.model.semeval import DEV_FILE, read_file
    from tweet_sentiment.model.sources import BUILTIN, BUILTIN_DIR

    if data_dir is not None:
        return evaluate(loaded, read_file(Path(data_dir) / DEV_FILE))
    report = BUILTIN_DIR / REPORT_FILE
    if loaded.source == BUILTIN and report.exists():
        return json.loads(report.read_text())["dev"]
    return None
