"""Tiny models built inside the tests: a 2-layer BERT with a small WordPiece vocabulary. Nothing is downloaded."""

from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

WORDS = ["i", "love", "this", "best", "day", "ever", "hate", "worst", "awful", "the", "update", "meeting", "at",
         "good", "bad", "great", "terrible", "happy", "sad", "@", "user", "http", "!", ".", ",", "'", "s", "it"]


def build_tiny_model(folder: Path, id2label: dict[int, str], seed: int = 0, bias: list[float] | None = None) -> Path:
    """Save a random 2-layer, 32-wide BERT sequence classifier with the given labels in HuggingFace layout.

    With `bias`, the head ignores the text and always yields softmax(bias): predictions known in advance.
    """
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, num_labels=len(id2label),
                        id2label=id2label, label2id={v: k for k, v in id2label.items()})
    model = BertForSequenceClassification(config).eval()
    if bias is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(torch.tensor(bias))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
