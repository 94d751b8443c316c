"""`lmmlc-add-labels`: add labels by name to a trained label-stream model, and optionally teach them from a few
examples (`train_new_labels`: the stock Trainer, only the new labels' parameters move).

    lmmlc-add-labels --model_path M --labels new.txt --output_dir M2                       # zero-shot
    lmmlc-add-labels --model_path M --labels new.txt --train_file few.jsonl --output_dir M2  # few-shot
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import (
    AutoConfig,
    HfArgumentParser,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    TrainingArguments,
)

from .arguments import check_model_path
from .configuration_lmmlc import LabelMaskConfig, max_text_length
from .data import check_text, read_json_lines
from .evaluation import load_trained
from .losses_lmmlc import IGNORE_INDEX
from .new_labels_lmmlc import check_new_labels, new_label_parameters
from .trainer import MultiLabelTrainer


@dataclass
class AddLabelsArguments:
    model_path: str = field(metadata={"help": "A trained label-stream lmmlc model folder."})
    labels: str = field(
        metadata={"help": "A text file, one new label name per line (optionally 'name<TAB>description')."}
    )
    output_dir: str = field(metadata={"help": "Where the model with the new labels goes (a new or empty folder)."})
    train_file: str | None = field(
        default=None,
        metadata={"help": "JSON Lines {text, labels}: few-shot examples; a new label absent from a row is a negative."},
    )
    num_train_epochs: float = field(default=15.0, metadata={"help": "Few-shot epochs over --train_file."})
    learning_rate: float = field(default=3e-3, metadata={"help": "Few-shot learning rate of the new label tokens."})
    head_learning_rate: float = field(
        default=3e-2,
        metadata={
            "help": "Few-shot learning rate of the new pooled-head and ranker rows (docs/experiments/NOTEBOOK.md 10)."
        },
    )
    per_device_train_batch_size: int = field(default=16, metadata={"help": "Few-shot batch size."})
    seed: int = field(default=42, metadata={"help": "Few-shot seed."})


def read_new_labels(path: Path) -> tuple[list[str], list[str] | None]:
    """Names (and descriptions, when any line has a tab) of a labels file; blank lines are skipped."""
    if not path.is_file():
        raise FileNotFoundError(f"--labels {path}: no such file (one new label name per line).")
    lines = [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [line.split("\t", 1) if "\t" in line else [line, line] for line in lines]
    names = [name.strip() for name, _ in pairs]
    described = any("\t" in line for line in lines)
    return names, [text.strip() for _, text in pairs] if described else None


def few_shot_rows(path: Path, names: list[str]) -> tuple[list[str], list[list[int]]]:
    """Texts of `--train_file` and their 0/1 targets over the new labels `names` (other label names are ignored)."""
    rows = read_json_lines(
        path, {"text": "text", "labels": "labels"}, {"text": "--train_file", "labels": "--train_file"}
    )
    if not rows:
        raise ValueError(f"--train_file {path} holds no examples.")
    for row in rows:
        check_text(row["text"], f"--train_file {path}, line {row['_line']}", '"text"')
        if not isinstance(row["labels"], list):
            raise ValueError(f"--train_file {path}, line {row['_line']}: labels must be a list of names.")
    targets = [[int(name in row["labels"]) for name in names] for row in rows]
    missing = [name for k, name in enumerate(names) if not any(t[k] for t in targets)]
    if missing:
        raise ValueError(f"--train_file {path} has no positive example of {missing}: give at least one per new label.")
    return [row["text"] for row in rows], targets


class NewLabelCollator:
    """Batches of tokenized text with the new labels as candidates: `candidate_ids` `(batch, k)`, `labels` `(batch, k)`,
    and `ranker_targets` `(batch, num_labels)` with the old labels left out (IGNORE_INDEX)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, config: LabelMaskConfig, label_ids: list[int]) -> None:
        self.tokenizer, self.config, self.label_ids = tokenizer, config, label_ids

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        limit = max_text_length(self.config, self.tokenizer.model_max_length)
        texts = [row["text"] for row in rows]
        batch = dict(self.tokenizer(texts, padding=True, truncation=True, max_length=limit, return_tensors="pt"))
        targets = torch.tensor([row["targets"] for row in rows], dtype=torch.long)
        ids = torch.tensor(self.label_ids)
        ranker = torch.full((len(rows), self.config.num_labels), IGNORE_INDEX, dtype=torch.long)
        ranker[:, ids] = targets
        return {**batch, "candidate_ids": ids.expand(len(rows), -1), "labels": targets, "ranker_targets": ranker}


def train_new_labels(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    label_ids: list[int],
    texts: list[str],
    targets: list[list[int]],
    args: TrainingArguments,
    head_learning_rate: float | None = None,
) -> None:
    """Few-shot training of labels `label_ids` (added with `add_labels`) on `texts` and their 0/1 `targets` over those
    labels, with the stock Trainer: every other parameter, and every other label's entries of the shared ones (the
    embedding matrix, the pooled head, the ranker), keep their values to the bit (gradients masked, no weight decay).
    `head_learning_rate`: the peak rate of the new pooled-head and ranker rows (default `args.learning_rate`)."""
    if args.weight_decay:
        raise ValueError("Few-shot training of new labels needs weight_decay=0 (decay would move the old labels).")
    masks = new_label_parameters(model, label_ids)
    was = {name: p.requires_grad for name, p in model.named_parameters()}
    hooks = []
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name in masks)
        if name in masks:
            hooks.append(parameter.register_hook(lambda grad, mask=masks[name]: grad * mask))
    data = datasets.Dataset.from_dict({"text": texts, "targets": targets})
    collator = NewLabelCollator(tokenizer, model.config, label_ids)
    rate = {"head_learning_rate": head_learning_rate} if head_learning_rate else {}
    try:
        trainer = MultiLabelTrainer(model=model, args=args, train_dataset=data, data_collator=collator, **rate)
        trainer.train()
    finally:
        for hook in hooks:
            hook.remove()
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(was[name])
    model.eval()


def few_shot_arguments(args: AddLabelsArguments, output_dir: str) -> TrainingArguments:
    return TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=args.num_train_epochs,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.per_device_train_batch_size,
        seed=args.seed,
        weight_decay=0.0,
        save_strategy="no",
        report_to="none",
        logging_steps=10,
        remove_unused_columns=False,
    )


def main(argv: list[str] | None = None) -> None:
    (args,) = HfArgumentParser(AddLabelsArguments).parse_args_into_dataclasses(argv)
    output = Path(args.output_dir)
    if output.exists() and any(output.iterdir()):
        raise ValueError(f"--output_dir {output} exists and is not empty: give a new folder.")
    names, descriptions = read_new_labels(Path(args.labels))
    check_model_path(args.model_path, "--model_path")
    config = AutoConfig.from_pretrained(args.model_path)
    if not isinstance(config, LabelMaskConfig):
        raise ValueError(
            f"{args.model_path} is a {config.model_type} model: only label-mask models can add labels by name "
            "(the pooled baseline and the stock head have a fixed output layer). Retrain it with the new labels."
        )
    check_new_labels(config, names, descriptions)
    rows = few_shot_rows(Path(args.train_file), names) if args.train_file else None  # bad input before any work
    model, tokenizer = load_trained(args.model_path)
    label_ids = model.add_labels(names, tokenizer, descriptions)
    if rows is not None:
        with tempfile.TemporaryDirectory() as scratch:  # the Trainer's own folder; nothing of it is kept
            options = few_shot_arguments(args, scratch)
            train_new_labels(model, tokenizer, label_ids, *rows, options, head_learning_rate=args.head_learning_rate)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    how = f"taught from {len(rows[0])} examples" if rows else "zero-shot, from their names"
    print(f"Added {len(names)} labels ({how}) to {args.model_path}: saved to {output}.")
