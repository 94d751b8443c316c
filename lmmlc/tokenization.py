"""Tokenizer side: tokenizing texts to fit the label template, building the template, showing it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import datasets
import torch
from transformers import PreTrainedTokenizerBase

from .arguments import DataArguments
from .configuration_lmmlc import LabelMaskConfig, MultiLabelBertConfig, label_names_of, max_text_length
from .data import SPLITS, MultiLabelData, multi_hot, select
from .template_lmmlc import insert_label_template


def tokenize_for_template(
    tokenizer: PreTrainedTokenizerBase, texts: str | Sequence[str], config: LabelMaskConfig, **kwargs: Any
) -> dict[str, Any]:
    """`tokenizer(texts)` truncated to leave room for the label template (no padding).

    Args:
        texts: one text or a list of texts.
        kwargs: further `tokenizer` options.
    """
    return tokenizer(texts, truncation=True, max_length=max_text_length(config, tokenizer.model_max_length), **kwargs)


def build_template_inputs(
    text_ids: Sequence[int] | Sequence[Sequence[int]],
    config: LabelMaskConfig,
    label_state: Sequence[int] | Sequence[Sequence[int]] | torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Build model inputs from tokenized text(s) (`[CLS] text [SEP]` ids) and per-label states.

    The text is truncated so that the template always fits; the template is never cut.

    Args:
        text_ids: ids of one text or of several texts, as `tokenizer(text)["input_ids"]` gives them.
        config: the model config (template options and token ids).
        label_state: per text, one state per label: MASKED (-1), NO (0) or YES (1); None = all masked.

    Returns:
        input_ids, attention_mask, token_type_ids `(batch, seq_len)` and slot_positions
        `(batch, num_labels)`; a batch of one for a single text.
    """
    rows = [text_ids] if text_ids and isinstance(text_ids[0], int) else list(text_ids)
    if not rows:
        raise ValueError("build_template_inputs got no texts.")
    tensors = [torch.as_tensor(row, dtype=torch.long) for row in rows]
    input_ids = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True, padding_value=config.pad_token_id or 0)
    attention_mask = torch.nn.utils.rnn.pad_sequence([torch.ones_like(t) for t in tensors], batch_first=True)
    if label_state is not None:
        label_state = torch.as_tensor(label_state, dtype=torch.long).reshape(len(rows), -1)
    built = insert_label_template(input_ids, attention_mask, config, label_state)
    built.pop("text_mask")
    return built


def describe_template(tokenizer: PreTrainedTokenizerBase, config: LabelMaskConfig, text: str = "text") -> str:
    """The template as tokens around a text, e.g. `[CLS] text [SEP] [unused2] [MASK] [unused3] ... [SEP]`."""
    built = build_template_inputs(tokenizer(text)["input_ids"], config)
    return " ".join(tokenizer.convert_ids_to_tokens(built["input_ids"][0].tolist()))


def encode_dataset(
    dataset: datasets.Dataset,
    tokenizer: PreTrainedTokenizerBase,
    config: MultiLabelBertConfig,
    label_names: list[str] | None = None,
    max_seq_length: int | None = None,
) -> datasets.Dataset:
    """Tokenize a `text` column (leaving room for the label template) and turn `labels` names into 0/1.

    Args:
        dataset: with `text` and, optionally, `labels` (lists of label names).
        label_names: the label order (default: the config's).
        max_seq_length: most text tokens kept, [CLS] and [SEP] included (the template comes on top).
    """
    label_names = label_names or label_names_of(config)
    max_length = max_text_length(config, tokenizer.model_max_length)
    windowed = hasattr(config, "windows") and config.windows() is not None  # then max_seq_length is the window
    if max_seq_length is not None and not windowed:
        if max_seq_length < 3:
            raise ValueError(f"max_seq_length={max_seq_length} leaves no room for text: use at least 3.")
        max_length = min(max_length, max_seq_length)
    has_labels = "labels" in dataset.column_names

    def encode(batch: dict[str, list]) -> dict[str, list]:
        out = dict(tokenizer(batch["text"], truncation=True, max_length=max_length))
        if has_labels:
            out["labels"] = [multi_hot(names, label_names) for names in batch["labels"]]
        return out

    return dataset.map(encode, batched=True, desc="Tokenizing")


def encode_splits(
    data: MultiLabelData,
    tokenizer: PreTrainedTokenizerBase,
    config: MultiLabelBertConfig,
    data_args: DataArguments,
    splits: tuple[str, ...] = SPLITS,
) -> dict[str, datasets.Dataset]:
    """`encode_dataset` on each of `splits` that the data has, cut to --max_{train,eval,predict}_samples."""
    limits = {
        "train": data_args.max_train_samples,
        "validation": data_args.max_eval_samples,
        "test": data_args.max_predict_samples,
    }
    return {
        split: encode_dataset(
            select(data.splits[split], limits[split]), tokenizer, config, data.label_names, data_args.max_seq_length
        )
        for split in splits
        if split in data.splits
    }
