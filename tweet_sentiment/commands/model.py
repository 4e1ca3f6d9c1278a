"""The `tweet-sentiment model` commands: train the builtin adapter, register a model, score a JSON-lines file."""

import json
import logging
from pathlib import Path

import click

from tweet_sentiment.settings import HOME_ENV_VAR

TRACKING_ENV_VAR = "TWEET_SENTIMENT_MLFLOW_URI"  # same as tweet_sentiment.model.registry; kept light to import

home_option = click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), envvar=HOME_ENV_VAR, default=None,
    help=f"Folder for all state (lakehouse, manifest, MLflow, Dagster). Default: ${HOME_ENV_VAR} or "
         "~/.tweet_sentiment.")
tracking_option = click.option(
    "--tracking-uri", default=None, envvar=TRACKING_ENV_VAR,
    help="MLflow tracking server; default: sqlite store under <home>/mlflow.")


@click.group()
def model() -> None:
    """Train, register and use the sentiment model (MLflow registry: HF_TWEET_SENTIMENT@production)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "urllib3", "alembic", "mlflow.store", "transformers", "peft"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@model.command()
@home_option
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The semeval-task4a folder (e.g. ../shared/data/semeval-task4a).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the adapter and report. Default: the package's builtin folder.")
@click.option("--method", type=click.Choice(["full", "lora"]), default="lora", show_default=True,
              help="full: train every weight but the word embeddings and ship a compressed delta; lora: an adapter on "
                   "the top layers.")
@click.option("--epochs", type=float, default=2.0, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--learning-rate", type=float, default=None,
              help="Peak learning rate. Default: 8e-4 for lora, 8e-5 for full.")
@click.option("--layer-decay", type=click.FloatRange(0.1, 1.0), default=1.0, show_default=True,
              help="full: learning-rate factor per layer below the head (1: the same rate everywhere).")
@click.option("--delta-rank", type=click.IntRange(min=1), default=64, show_default=True,
              help="full: rank of the shipped low-rank delta of each encoder matrix.")
@click.option("--lora-r", type=int, default=16, show_default=True)
@click.option("--frozen-layers", type=click.IntRange(0, 5), default=3, show_default=True,
              help="Bottom layers kept frozen (their outputs cached once); LoRA adapts the layers above.")
@click.option("--pooling", type=click.Choice(["cls", "mean"]), default="cls", show_default=True,
              help="What the head reads: the BERT pooler on [CLS], or on the mean of the token states.")
@click.option("--select-every", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Epochs between checks of macro-recall on the held-out training tweets; the best checkpoint is "
                   "kept (0: keep the last step).")
@click.option("--class-weighting", type=click.Choice(["balanced", "sqrt", "none"]), default="balanced",
              show_default=True, help="Loss weights per class: inverse frequency, its square root, or none.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--limit", type=int, default=None, help="Train on the first N tweets only (smoke runs).")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Torch threads. One is faster on a shared 2-core machine: spinning thread pools collapse when "
                   "another process holds a core.")
def train(home: Path | None, data_dir: Path, out_dir: Path | None, method: str, epochs: float, batch_size: int,
          learning_rate: float | None, layer_decay: float, delta_rank: int, lora_r: int, frozen_layers: int,
          pooling: str, select_every: float, class_weighting: str, seed: int, limit: int | None,
          threads: int) -> None:
    """Fine-tune the builtin model (MiniLM, fully or with LoRA) on SemEval tweets, keeping twitter-2016devtest-A out
    as dev."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from tweet_sentiment.model.sources import BUILTIN_DIR
    from tweet_sentiment.model.train import train as run_training
    from tweet_sentiment.model.training_setup import TrainConfig

    default_rate = 8e-5 if method == "full" else 8e-4
    config = TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate or default_rate,
                         method=method, layer_decay=layer_decay, delta_rank=delta_rank, lora_r=lora_r,
                         lora_alpha=2 * lora_r, frozen_layers=frozen_layers, pooling=pooling, seed=seed,
                         limit=limit, bf16=False, threads=threads, select_every=select_every,
                         class_weighting=class_weighting)
    target = out_dir or BUILTIN_DIR
    columns = (TextColumn("training"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
               TextColumn("loss {task.fields[loss]:.3f}"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("train", total=None, loss=float("nan"))

        def on_step(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=loss)

        report = run_training(data_dir, target, config, progress=on_step)
    dev = report["dev"]
    click.echo(f"wrote {target}: dev macro-recall {dev['macro_recall']:.4f}, recall {dev['recall']}, "
               f"temperature {report['temperature']:.3f}, {report['train_seconds']:.0f}s")


@model.command()
@home_option
@tracking_option
@click.option("--source", default="builtin", show_default=True,
              help="'builtin', a local HuggingFace model folder, or a hub id (e.g. cardiffnlp/twitter-roberta-base-"
                   "sentiment-latest; needs internet).")
@click.option("--dev-data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The semeval-task4a folder: measure the model's dev macro-recall before registering.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "int8"]), default="auto", show_default=True,
              help="Inference precision the registered pyfunc uses; auto: bf16 where the CPU has native bf16.")
def register(home: Path | None, tracking_uri: str | None, source: str, dev_data: Path | None, precision: str) -> None:
    """Register a model as HF_TWEET_SENTIMENT in MLflow and point the alias `production` at it."""
    from rich.console import Console

    from tweet_sentiment.model.registry import ALIAS, register_source

    console = Console()
    with console.status("registering") as status:
        def step(message: str) -> None:
            status.update(message)
            console.log(message)

        result = register_source(source, tracking_uri, home, dev_data, model_config={"precision": precision},
                                 step=step)
    _report_to_dagster(result, home)
    recall = f"{result.dev_macro_recall:.4f}" if result.dev_macro_recall is not None else "n/a"
    verb = "already registered as" if result.reused else "registered"
    click.echo(f"{result.name} {verb} version {result.version} (@{ALIAS}); source {result.source}; dev macro-recall "
               f"{recall}; {result.size_bytes / 2**20:.1f} MB; run {result.run_url}")


def _report_to_dagster(registration, home: Path | None) -> None:
    """The registration as a materialization of `sentiment_model` in the home's Dagster instance."""
    from tweet_sentiment.defs.model import report_cli_registration
    from tweet_sentiment.instance import open_instance
    from tweet_sentiment.settings import HomeLayout

    report_cli_registration(open_instance(HomeLayout.resolve(home), None), registration)


@model.command()
@home_option
@tracking_option
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="JSON lines with a `text` field.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="JSON lines: each input line with predicted_sentiment and predicted_score (0-1) added.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Lines read and scored at a time (bounds memory; each chunk is sorted by length and batched).")
@click.option("--threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="Torch threads; 0: every core this process may use.")
def predict(home: Path | None, tracking_uri: str | None, input_path: Path, output_path: Path, batch_size: int,
            chunk_size: int, threads: int) -> None:
    """Score a JSON-lines file with the registered production model, on gold's scoring path."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from tweet_sentiment.model.predict import InputError, count_rows, load_classifier, predict_file
    from tweet_sentiment.model.production import local_model_path, production_model_ref

    ref = production_model_ref(tracking_uri, home)
    classifier = load_classifier(local_model_path(ref, home), threads)
    columns = (TextColumn(f"scoring with {ref.name} v{ref.version} ({classifier.precision})"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("predict", total=count_rows(input_path))
        try:
            written = predict_file(classifier, input_path, output_path, batch_size, chunk_size,
                                   on_rows=lambda rows: bar.advance(task, rows))
        except InputError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"scored {written} lines into {output_path}")


@model.command()
@home_option
@tracking_option
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The semeval-task4a folder: timing texts and the dev set.")
@click.option("--count", type=click.IntRange(min=64), default=5000, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
def benchmark(home: Path | None, tracking_uri: str | None, data_dir: Path, count: int, batch_size: int) -> None:
    """Tweets/s of the production model vs a bare batched forward of the same network; bf16/int8 dev recall."""
    import torch
    from rich.console import Console
    from rich.table import Table

    from tweet_sentiment.model.benchmark import benchmark_texts, run_benchmark
    from tweet_sentiment.model.registry import load_production_model
    from tweet_sentiment.model.semeval import DEV_FILE, read_file
    from tweet_sentiment.model.sources import LoadedSource

    pyfunc = load_production_model(tracking_uri, home)
    wrapped = pyfunc.unwrap_python_model().classifier
    loaded = LoadedSource(wrapped.model, wrapped.tokenizer, "production", "production")
    texts = benchmark_texts(data_dir, count)
    rows = run_benchmark(pyfunc.predict, loaded, texts, read_file(data_dir / DEV_FILE), batch_size)
    table = Table(title=f"{len(texts)} tweets, batch {batch_size}, {torch.get_num_threads()} torch threads")
    for column in ("variant", "tweets/s", "dev macro-recall"):
        table.add_column(column)
    for row in rows:
        recall = row.get("dev_macro_recall")
        table.add_row(row["variant"], f"{row['tweets_per_s']:.0f}", "" if recall is None else f"{recall:.4f}")
    Console().print(table)


@model.command("benchmark-predict")
@home_option
@tracking_option
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="JSON lines with a `text` field (e.g. 12,000 SemEval tweets).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the scored copies go. Default: a temporary folder.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option("--threads", type=click.IntRange(min=0), default=0, show_default=True,
              help="Torch threads for every path; 0: every core this process may use.")
def benchmark_predict(home: Path | None, tracking_uri: str | None, input_path: Path, work_dir: Path | None,
                      batch_size: int, threads: int) -> None:
    """Tweets/s of `model predict` before and after issue #12, and of gold's UDF scoring, measured in one run."""
    import tempfile

    from tweet_sentiment.model.benchmark import predict_benchmark

    with tempfile.TemporaryDirectory() as tmp:
        result = predict_benchmark(tracking_uri, home, input_path, work_dir or Path(tmp), batch_size, threads)
    click.echo(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}, indent=2))
