"""Tiny random BERT checkpoints for tests and synthetic benchmarks (like `transformers.testing_utils`)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertModel


def write_tiny_bert(folder: Path, words: list[str], unused: int = 60, max_positions: int = 64, seed: int = 0) -> Path:
    """Save a random 2-layer BERT (hidden 32) and a WordPiece tokenizer over `words` to `folder`.

    Args:
        unused: how many `[unusedN]` slots the vocabulary has (0: none, so template tokens get added).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", *[f"[unused{i}]" for i in range(unused)], "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    settings = {"do_lower_case": True, "tokenizer_class": "BertTokenizer", "model_max_length": max_positions}
    (folder / "tokenizer_config.json").write_text(json.dumps(settings))
    AutoTokenizer.from_pretrained(folder).save_pretrained(folder)  # the same files on every transformers line
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=max_positions,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(folder)
    return folder
