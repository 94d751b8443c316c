"""`lmmlc-pretrain`: continued MLM pretraining of the encoder on the task's own texts ("don't stop pretraining").

The stock Trainer and `DataCollatorForLanguageModeling` (whole-word masking with fast tokenizers);
the output is a BERT folder with its MLM head that `lmmlc-train --model_name_or_path` warm-starts from
(the label-mask head starts from that MLM head).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import datasets
from transformers import (
    AutoModelForMaskedLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    HfArgumentParser,
    Trainer,
    set_seed,
)

from .arguments import DataArguments, PretrainTrainingArguments, check_model_path
from .command_options import command_line, default_encoder
from .data import load_data, select
from .output_dir import check_output_dir, clear_output_dir, run_command, sign_output_dir


@dataclass
class PretrainArguments:
    model_name_or_path: str | None = field(default=None, metadata={"help": "Encoder (default: bundled MiniLM)."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens masked."})
    whole_word_mask: bool = field(default=True, metadata={"help": "Mask whole words (needs a fast tokenizer)."})
    text_splits: list[str] = field(
        default_factory=lambda: ["train"], metadata={"help": "Splits whose texts are trained on (labels unused)."}
    )


def parse_args(argv: list[str] | None = None) -> tuple[Any, ...]:
    """Command-line options; a leading JSON/YAML file supplies options that later ones override."""
    arguments = (PretrainArguments, DataArguments, PretrainTrainingArguments)
    return HfArgumentParser(arguments).parse_args_into_dataclasses(command_line(argv, arguments))


def mlm_texts(data_args: DataArguments, splits: list[str]) -> tuple[datasets.Dataset, datasets.Dataset | None]:
    """Texts of `splits` to train on (train cut to --max_train_samples), and validation texts to score."""
    data = load_data(data_args, need_train="train" in splits)
    missing = sorted(set(splits) - set(data.splits))
    if missing:
        raise ValueError(f"--text_splits {missing} not in the data (it has {sorted(data.splits)}).")
    parts = [select(data.splits[s], data_args.max_train_samples if s == "train" else None) for s in splits]
    train = datasets.concatenate_datasets([p.select_columns(["text"]) for p in parts])
    validation = data.splits.get("validation")
    if validation is not None:
        validation = select(validation, data_args.max_eval_samples).select_columns(["text"])
    return train, validation


def tokenize(texts: datasets.Dataset, tokenizer: Any, max_length: int, offsets: bool) -> datasets.Dataset:
    """Tokenized texts packed into blocks of `max_length` tokens (as HF's run_mlm.py), so no padding is needed."""

    def encode(batch: dict[str, list]) -> dict[str, list]:
        return tokenizer(
            batch["text"],
            truncation=True,
            max_length=max_length,
            return_special_tokens_mask=True,
            return_offsets_mapping=offsets,
        )

    def pack(batch: dict[str, list]) -> dict[str, list]:
        joined = {key: [item for row in rows for item in row] for key, rows in batch.items()}
        size = len(joined["input_ids"]) // max_length * max_length or len(joined["input_ids"])
        return {key: [v[i : i + max_length] for i in range(0, size, max_length)] for key, v in joined.items()}

    encoded = texts.map(encode, batched=True, remove_columns=["text"], desc="Tokenizing")
    return encoded.map(pack, batched=True, batch_size=1000, desc=f"Packing into blocks of {max_length}")


def mlm_collator(
    tokenizer: Any, probability: float, whole_word_mask: bool, seed: int
) -> DataCollatorForLanguageModeling:
    """BERT-style masking; whole words are always shown as [MASK] (transformers does not replace them with
    random tokens, and 4.57 fails on the setting that would ask it to)."""
    replace = {"mask_replace_prob": 1.0, "random_replace_prob": 0.0} if whole_word_mask else {}
    return DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=probability, whole_word_mask=whole_word_mask, seed=seed, **replace
    )


def new_mlm_head(loading_info: dict[str, Any]) -> bool:
    """Whether `from_pretrained(..., output_loading_info=True)` initialised MLM head weights at random (the
    checkpoint had none): a perplexity measured with them says nothing about the encoder."""
    return any(key.startswith("cls.") for key in loading_info.get("missing_keys") or [])


def run(argv: list[str] | None = None) -> dict[str, float]:
    """Continue MLM pretraining; save the encoder + MLM head + tokenizer; report validation perplexity."""
    pre_args, data_args, training_args = parse_args(argv)
    if not 0.0 < pre_args.mlm_probability < 1.0:
        raise ValueError(f"--mlm_probability {pre_args.mlm_probability} must lie strictly between 0 and 1.")
    output = training_args.output_dir
    if training_args.resume_from_checkpoint:
        raise ValueError("lmmlc-pretrain does not resume (--resume_from_checkpoint): start it again in a new folder.")
    earlier_run = []  # the main process alone checks, clears and signs the folder
    if training_args.process_index == 0:
        earlier_run = check_output_dir(output, training_args.overwrite_output_dir, False, "lmmlc-pretrain")
    set_seed(training_args.seed)
    training_args.remove_unused_columns = False  # the collator needs offset_mapping and special_tokens_mask
    check_model_path(pre_args.model_name_or_path, "--model_name_or_path")
    path = pre_args.model_name_or_path or default_encoder()
    tokenizer = AutoTokenizer.from_pretrained(path)
    if pre_args.whole_word_mask and not tokenizer.is_fast:
        raise ValueError("--whole_word_mask needs a fast tokenizer (word offsets): use --whole_word_mask false.")
    train_texts, validation_texts = mlm_texts(data_args, pre_args.text_splits)
    max_length = min(data_args.max_seq_length or tokenizer.model_max_length, 512)
    encode = lambda texts: tokenize(texts, tokenizer, max_length, pre_args.whole_word_mask)  # noqa: E731
    collator = mlm_collator(tokenizer, pre_args.mlm_probability, pre_args.whole_word_mask, training_args.seed)
    model, loading = AutoModelForMaskedLM.from_pretrained(path, output_loading_info=True)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=encode(train_texts),
        eval_dataset=None if validation_texts is None else encode(validation_texts),
        data_collator=collator,
        processing_class=tokenizer,
    )
    command = run_command("lmmlc-pretrain", argv)
    if training_args.process_index == 0:  # every input checked: only now replace an earlier run
        clear_output_dir(output, earlier_run)
        sign_output_dir(output, command, finished=False)
    results = {}
    if trainer.eval_dataset is not None and not new_mlm_head(loading):
        results["perplexity_before"] = math.exp(trainer.evaluate()["eval_loss"])
    elif trainer.eval_dataset is not None:
        print(f"No perplexity before training: {path} has no MLM head, so it starts from random weights.")
    results.update(trainer.train().metrics)
    if trainer.eval_dataset is not None:
        results["perplexity_after"] = math.exp(trainer.evaluate()["eval_loss"])
    trainer.save_model()
    trainer.save_metrics("all", results)
    if trainer.is_world_process_zero():
        sign_output_dir(output, command, finished=True)
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()})
    return results


def main(argv: list[str] | None = None) -> None:
    """Console entry point (returns nothing, so the exit status stays 0)."""
    run(argv)
