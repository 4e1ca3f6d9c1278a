"""Tiny models registered once per test session. The first registration of a model (by seed and bias) registers it
for real into a template home; every later one copies that home's MLflow store into the test's home, with the
absolute paths MLflow keeps (in its database and in MLmodel files) rewritten to the new home, as if registered there.
A registration takes 8-10 s on this project's CI machine; a copy takes milliseconds."""

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

from tweet_sentiment.model.registry import register_source
from tweet_sentiment.settings import HomeLayout
from tweet_sentiment_tests.tiny_model import build_tiny_model

LABEL_IDS = {0: "negative", 1: "neutral", 2: "positive"}
_ROOT = Path(tempfile.mkdtemp(prefix="tweet-sentiment-model-store-")).resolve()
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
_TEMPLATES: dict[tuple[int, tuple[float, ...] | None], tuple[Path, str]] = {}


def _template(seed: int, bias: list[float] | None) -> tuple[Path, str]:
    """The home holding the registered model of (seed, bias), registered on first use; and its version."""
    key = (seed, tuple(bias) if bias is not None else None)
    if key not in _TEMPLATES:
        index = len(_TEMPLATES)
        source = build_tiny_model(_ROOT / "sources" / str(index), LABEL_IDS, seed=seed, bias=bias)
        home = _ROOT / "homes" / str(index)
        _TEMPLATES[key] = (home, register_source(str(source), home=home).version)
    return _TEMPLATES[key]


def _rewrite_database(database: Path, old: str, new: str) -> None:
    """Replace `old` by `new` in every text value of the sqlite database (MLflow's artifact locations)."""
    with sqlite3.connect(database) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]:
                connection.execute(f'UPDATE "{table}" SET "{column}" = REPLACE("{column}", ?, ?) '
                                   f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                                   (old, new, old))


def copy_registered_store(template: Path, home: Path) -> None:
    """Copy the template's MLflow store (not its model cache) into `home`, paths rewritten to `home`."""
    source, target = HomeLayout.resolve(template), HomeLayout.resolve(home)
    shutil.copytree(source.mlflow, target.mlflow, ignore=shutil.ignore_patterns("model_cache"))
    old, new = str(source.root), str(target.root)
    _rewrite_database(target.mlflow / "mlflow.db", old, new)
    for mlmodel in target.mlflow.rglob("MLmodel"):
        mlmodel.write_text(mlmodel.read_text().replace(old, new))


def register_tiny_model(home: Path, seed: int = 0, bias: list[float] | None = None) -> str:
    """HF_TWEET_SENTIMENT@production in `<home>/mlflow`: a tiny classifier (see tiny_model); its version. Copied from
    the session's template where the home has no MLflow store yet, registered for real where it has one (a second
    version)."""
    if (HomeLayout.resolve(home).mlflow / "mlflow.db").exists():
        source = build_tiny_model(Path(tempfile.mkdtemp(dir=_ROOT)), LABEL_IDS, seed=seed, bias=bias)
        return register_source(str(source), home=home).version
    template, version = _template(seed, bias)
    copy_registered_store(template, home)
    return version
