"""`lmmlc-train`: fine-tune a label-mask or baseline model with the stock Trainer, tune thresholds, report."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    EvalPrediction,
    HfArgumentParser,
    TrainingArguments,
    set_seed,
)

from .arguments import (
    HEAD_LEARNING_RATES,
    DataArguments,
    LabelMaskArguments,
    LmmlcTrainingArguments,
    ModelArguments,
    check_model_path,
)
from .baseline_hint import baseline_hint
from .callbacks import CollatorStepCallback, JsonLogCallback, MLMScheduleCallback
from .command_options import command_line, default_encoder
from .configuration_lmmlc import LabelMaskConfig, check_tokenizer
from .data import load_data
from .data_collators import DataCollatorForLabelMask, DataCollatorForMultiLabel
from .evaluation import (
    SPLIT_PREFIXES,
    format_table,
    inference_collator,
    predict_dataset,
    split_metrics,
)
from .metrics import binarize, multilabel_metrics
from .modeling_lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification
from .output_dir import check_output_dir, clear_output_dir, run_command, sign_output_dir
from .thresholds import GRID, tune_shipped_thresholds
from .tokenization import encode_splits
from .trainer import MultiLabelTrainer
from .warm_start_lmmlc import config_parameters

ARGUMENTS = (ModelArguments, DataArguments, LabelMaskArguments, LmmlcTrainingArguments)
MODEL_TYPES = ("lmmlc", "baseline", "stock")


def parse_args(argv: list[str] | None = None) -> tuple[Any, ...]:
    """Command-line options; a leading JSON/YAML file supplies options that later ones override."""
    argv = command_line(argv, ARGUMENTS)
    model_args, data_args, lm_args, training_args = HfArgumentParser(ARGUMENTS).parse_args_into_dataclasses(argv)
    training_args.resolve_learning_rates(model_args.model_type)
    return model_args, data_args, lm_args, training_args


def check_args(model_args: ModelArguments, lm_args: LabelMaskArguments) -> None:
    """Reject contradictory options and missing model folders before anything is loaded."""
    check_model_path(model_args.model_name_or_path, "--model_name_or_path")
    if model_args.decode_strategy == "fixed":
        raise ValueError(
            "--decode_strategy fixed needs a label order: train with another strategy, then lmmlc-find-order "
            "searches an order on validation and stores it with decode_strategy=fixed."
        )
    check_model_path(model_args.tokenizer_name, "--tokenizer_name")
    if model_args.model_type not in MODEL_TYPES:
        raise ValueError(f"--model_type {model_args.model_type!r}: choose one of {', '.join(MODEL_TYPES)}.")
    if model_args.model_type == "stock" and (lm_args.mlm_probability > 0 or lm_args.fgm_epsilon > 0):
        raise ValueError("--model_type stock is transformers' plain head: joint MLM and FGM need lmmlc or baseline.")
    if (model_args.max_windows or 1) > 1 and (model_args.model_type == "stock" or lm_args.mlm_probability > 0):
        raise ValueError(
            "--max_windows > 1 (whole documents) needs an lmmlc or baseline model without joint MLM: the stock head "
            "reads one window as transformers has it, and joint MLM's targets follow one sequence."
        )
    stream_only = lm_args.label_sample_size is not None
    if stream_only and (model_args.model_type != "lmmlc" or model_args.label_stream is False):
        raise ValueError("--label_sample_size needs the label stream (an lmmlc model).")
    if (lm_args.mlm_probability > 0) != (model_args.mlm_loss_weight > 0):
        raise ValueError("Joint MLM needs both --mlm_probability > 0 and --mlm_loss_weight > 0 (or neither).")
    views = (model_args.all_masked_loss_weight or 0) > 0
    if views and (lm_args.reveal_strategy == "none" or lm_args.reveal_example_prob == 0):
        raise ValueError(
            "--all_masked_loss_weight acts on training examples that reveal labels, and this run reveals none: add "
            "--reveal_strategy random (and --reveal_example_prob > 0), or leave it at 0."
        )
    if (lm_args.mlm_epochs is not None or lm_args.mlm_steps is not None) and lm_args.mlm_probability == 0:
        raise ValueError(
            "--mlm_epochs/--mlm_steps schedule joint MLM: also set --mlm_probability and --mlm_loss_weight."
        )


CHECKPOINT_FILES = ("trainer_state.json", "model.safetensors")
"""What a finished Trainer checkpoint holds (trainer_state.json is written last)."""


def missing_checkpoint_files(folder: Path) -> list[str]:
    """The `CHECKPOINT_FILES` that `folder` lacks (none: a finished checkpoint)."""
    return [name for name in CHECKPOINT_FILES if not (folder / name).exists()]


def resume_checkpoint(args: LmmlcTrainingArguments) -> str | None:
    """The checkpoint a run resumes from: none, the folder given (refused when incomplete), or for `latest` the
    newest complete `checkpoint-N` of output_dir; incomplete ones (a kill while saving) are skipped, saying so."""
    given = args.resume_from_checkpoint
    if not given:
        return None
    if given.lower() not in ("latest", "true"):
        missing = missing_checkpoint_files(Path(given))
        if missing:
            raise ValueError(
                f"--resume_from_checkpoint {given} is not a complete checkpoint (no {', '.join(missing)}); give "
                "another checkpoint-N folder, or `latest` for the newest complete one."
            )
        return given
    folders = [p for p in Path(args.output_dir).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    for folder in sorted(folders, key=lambda p: int(p.name.split("-")[-1]), reverse=True):
        missing = missing_checkpoint_files(folder)
        if not missing:
            return str(folder)
        print(f"Skipping {folder}: incomplete (no {', '.join(missing)}), cut off while it was being saved.")
    raise FileNotFoundError(f"--resume_from_checkpoint latest: {args.output_dir} holds no complete checkpoint-N.")


def check_resumed_labels(checkpoint: str | None, label_names: list[str]) -> None:
    """Refuse to resume a checkpoint trained on other labels (or in another order) than the data's: its per-label
    weights would train on under other names."""
    config = Path(checkpoint or "") / "config.json"
    if checkpoint is None or not config.is_file():
        return
    id2label = json.loads(config.read_text(encoding="utf-8")).get("id2label") or {}
    trained = [id2label[key] for key in sorted(id2label, key=int)]
    if trained == label_names:
        return
    first = next((i for i, (a, b) in enumerate(zip(trained, label_names, strict=False)) if a != b), None)
    where = (
        f"label {first} is {trained[first]!r} in the checkpoint and {label_names[first]!r} in the data"
        if first is not None
        else f"the checkpoint has {len(trained)} labels and the data {len(label_names)}"
    )
    raise ValueError(
        f"--resume_from_checkpoint {checkpoint} was trained on other labels than the data's: {where}. Resume with "
        "the data (and label file) it was trained on, or start a new run."
    )


def config_options(model_args: ModelArguments, config_class: type) -> dict[str, Any]:
    """The model options that `config_class` takes (template, loss, pooling, ...), by name."""
    accepted = config_parameters(config_class)
    return {f.name: getattr(model_args, f.name) for f in dataclasses.fields(model_args) if f.name in accepted}


def window_options(model_args: ModelArguments, config_class: type, max_seq_length: int | None) -> dict[str, Any]:
    """`config_options`, and the window size `text_window` (`--max_seq_length`) of a model that may read windows."""
    options = config_options(model_args, config_class)
    if options.get("max_windows") != 1:
        options["text_window"] = max_seq_length
    return options


def build_model(
    model_args: ModelArguments, label_names: list[str], max_seq_length: int | None = None
) -> tuple[torch.nn.Module, Any]:
    """Warm-start the chosen model on the encoder; returns it and its tokenizer. With `--max_windows` > 1 each window
    holds `max_seq_length` tokens (default: the encoder's positions)."""
    path = model_args.model_name_or_path or default_encoder()
    tokenizer = AutoTokenizer.from_pretrained(model_args.tokenizer_name or path)
    if model_args.model_type == "stock":
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            problem_type="multi_label_classification",
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={name: i for i, name in enumerate(label_names)},
        )
    elif model_args.model_type == "baseline":
        options = window_options(model_args, BertForMultiLabelClassification.config_class, max_seq_length)
        model = BertForMultiLabelClassification.from_encoder(path, label_names=label_names, **options)
    else:
        options = window_options(model_args, BertForLabelMaskClassification.config_class, max_seq_length)
        model = BertForLabelMaskClassification.from_encoder(
            path, label_names=label_names, tokenizer=tokenizer, **options
        )
    check_tokenizer(tokenizer, model.config, model_args.tokenizer_name or path)
    if model_args.model_type != "stock":  # the remote-code model refuses inputs that do not start with it
        model.config.cls_token_id = tokenizer.cls_token_id
    warn_short_texts(model.config)
    return model, tokenizer


SHORT_TEXT_BUDGET = 32
"""Fewer text tokens than this beside a single-sequence template is worth a warning."""


def warn_short_texts(config: Any) -> None:
    """Say so when a single-sequence label template leaves fewer than `SHORT_TEXT_BUDGET` text tokens per example
    (its labels take the rest of the encoder's positions), and how to keep more."""
    if not isinstance(config, LabelMaskConfig) or config.label_stream:
        return
    budget = config.text_budget()
    if budget < SHORT_TEXT_BUDGET:
        print(
            f"Warning: the single-sequence template of {config.num_labels} labels x {config.tokens_per_label} tokens "
            f"leaves {budget} text tokens per example (of {config.max_position_embeddings} positions): every text is "
            "cut to that. --label_stream true (the default) keeps up to "
            f"{config.max_position_embeddings - 2} text tokens with any number of labels."
        )


def train_collator(tokenizer: Any, config: Any, lm_args: LabelMaskArguments, seed: int) -> DataCollatorForMultiLabel:
    """The training collator: reveals labels (label-mask model), samples the label stream's labels, masks text
    for joint MLM."""
    if not isinstance(config, LabelMaskConfig):
        return DataCollatorForMultiLabel(tokenizer, config, mlm_probability=lm_args.mlm_probability, seed=seed)
    reveal = ("reveal_strategy", "reveal_example_prob", "min_revealed")
    options = {name: getattr(lm_args, name) for name in (*reveal, "max_revealed", "wrong_label_prob")}
    if config.label_stream:
        options["label_sample_size"] = stream_sample_size(config, lm_args)
        options["label_negatives"] = lm_args.label_negatives
    return DataCollatorForLabelMask(tokenizer, config, mlm_probability=lm_args.mlm_probability, seed=seed, **options)


def stream_sample_size(config: LabelMaskConfig, lm_args: LabelMaskArguments) -> int | None:
    """Labels the stream collator scores per training example: `--label_sample_size`, by default all labels (None)
    when they fit one group, else one group (all positives and uniformly drawn negatives)."""
    size = lm_args.label_sample_size
    if size is None and config.num_labels > config.label_group_size:
        size = config.label_group_size
    return size


def probabilities_from_logits(logits: np.ndarray | tuple) -> np.ndarray:
    """Sigmoid of Trainer predictions (the logits, or a tuple that starts with them)."""
    logits = logits[0] if isinstance(logits, tuple) else logits
    return torch.sigmoid(torch.as_tensor(logits, dtype=torch.float32)).numpy()


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Metrics at 0.5 for evaluations during training."""
    return multilabel_metrics(binarize(probabilities_from_logits(prediction.predictions), 0.5), prediction.label_ids)


def build_trainer(model, tokenizer, encoded: dict, lm_args: LabelMaskArguments, args: TrainingArguments):
    """The Trainer with its collators and callbacks (MLM schedule, JSON Lines log)."""
    collator = train_collator(tokenizer, model.config, lm_args, args.seed)
    callbacks = [JsonLogCallback(), CollatorStepCallback(collator)]
    if lm_args.mlm_epochs is not None or lm_args.mlm_steps is not None:
        callbacks.append(MLMScheduleCallback(collator, lm_args.mlm_epochs, lm_args.mlm_steps))
    return MultiLabelTrainer(
        model=model,
        args=args,
        train_dataset=encoded["train"],
        eval_dataset=encoded.get("validation"),
        data_collator=collator,
        eval_data_collator=inference_collator(tokenizer, model.config),
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        callbacks=callbacks,
        fgm_epsilon=lm_args.fgm_epsilon,
        head_learning_rate=head_learning_rate(args, model),
    )


def head_learning_rate(args: TrainingArguments, model: torch.nn.Module) -> float | None:
    """`--head_learning_rate` when given (the trainer refuses it for a model without a new head); left out, the
    measured default (`HEAD_LEARNING_RATES`) for an LM-MLC model with a new head (pooled text head, label ranker)."""
    given = getattr(args, "head_learning_rate", None)
    is_head = getattr(model, "is_head_parameter", None)
    if given is not None or is_head is None or not any(is_head(name) for name, _ in model.named_parameters()):
        return given
    return HEAD_LEARNING_RATES["lmmlc"]


def tune_thresholds(config: Any, probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray = GRID) -> int:
    """Store a global (best micro-F1) and per-label (best F1 each) threshold from `grid` in the model config, a label
    with too few validation positives taking the global one (`thresholds.tune_shipped_thresholds`: how few is chosen
    per model by cross-fitting within validation). Returns how many labels have a threshold of their own."""
    config.threshold, config.label_thresholds, own = tune_shipped_thresholds(probabilities, references, grid)
    return own


def main(argv: list[str] | None = None) -> None:
    """Train, tune thresholds on validation, save a Hub-ready folder, report validation and test metrics."""
    model_args, data_args, lm_args, training_args = parse_args(argv)
    check_args(model_args, lm_args)
    output, resuming = training_args.output_dir, bool(training_args.resume_from_checkpoint)
    earlier_run = []  # the main process alone checks, clears and signs the folder
    if training_args.process_index == 0:
        earlier_run = check_output_dir(output, training_args.overwrite_output_dir, resuming)
    resume = resume_checkpoint(training_args)
    set_seed(training_args.seed)
    data = load_data(data_args)
    check_resumed_labels(resume, data.label_names)
    model, tokenizer = build_model(model_args, data.label_names, data_args.max_seq_length)
    encoded = encode_splits(data, tokenizer, model.config, data_args)
    trainer = build_trainer(model, tokenizer, encoded, lm_args, training_args)
    command = run_command("lmmlc-train", argv)
    if training_args.process_index == 0:  # every input checked: only now replace an earlier run
        hint = baseline_hint(model.config, len(encoded["train"]))
        if hint is not None:
            print(hint)
        clear_output_dir(output, earlier_run)
        sign_output_dir(output, command, finished=False)
    train_result = trainer.train(resume_from_checkpoint=resume)
    scored, tuning = score_and_tune(trainer, tokenizer, encoded, training_args)
    metrics = {"train": train_result.metrics, **split_metrics(scored, encoded, trainer.model.config)}
    metrics.get("eval", {}).update(tuning)
    save_outputs(trainer, metrics, command)
    if trainer.is_world_process_zero():
        print(metrics_summary(metrics, training_args.output_dir))


def metrics_summary(metrics: dict[str, dict[str, float]], output_dir: str) -> str:
    """The metrics table of the scored splits, or a line saying that none was scored."""
    if not any(split in metrics for split in ("eval", "test")):
        return f"No validation or test split: nothing was scored. The model is saved in {output_dir}."
    return format_table({k: v for values in metrics.values() for k, v in values.items()})


def score_and_tune(
    trainer: MultiLabelTrainer, tokenizer: Any, encoded: dict, training_args: LmmlcTrainingArguments
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Every split's probabilities, with thresholds tuned on validation into the model config (a model decoding in
    rounds is scored again at them), and `eval_own_threshold_labels`: how many labels have a threshold of their own."""
    batch = training_args.per_device_eval_batch_size
    scored = {s: predict_dataset(trainer.model, tokenizer, encoded[s], batch) for s in SPLIT_PREFIXES if s in encoded}
    if "validation" not in scored:
        print(
            "No validation split: no threshold was tuned, so the model predicts every label at "
            f"{getattr(trainer.model.config, 'threshold', 0.5)} (give --validation_file, or validation.jsonl in "
            "--data_dir, to tune them)."
        )
        return scored, {}
    references = np.asarray(encoded["validation"]["labels"])
    own = tune_thresholds(trainer.model.config, scored["validation"], references)
    if getattr(trainer.model.config, "decode_strategy", "one_shot") != "one_shot":  # rounds reveal at the thresholds
        scored = {s: predict_dataset(trainer.model, tokenizer, encoded[s], batch) for s in scored}
    return scored, {"eval_own_threshold_labels": own}


def save_outputs(trainer: MultiLabelTrainer, metrics: dict[str, dict[str, float]], command: str) -> None:
    """Save the model, tokenizer and `<name>_results.json` files into a staging folder, then move them into
    output_dir one atomic rename at a time, `all_results.json` last: only a finished run has that file, and
    no file is ever half-written under its final name; then the manifest of what the run wrote (`command`)."""
    output = Path(trainer.args.output_dir)
    stage = output / ".saving"
    if trainer.is_world_process_zero():
        shutil.rmtree(stage, ignore_errors=True)
    trainer.save_model(str(stage))
    trainer.save_state()
    if not trainer.is_world_process_zero():
        return
    combined = {}
    for name, values in metrics.items():
        (stage / f"{name}_results.json").write_text(json.dumps(values, indent=2, sort_keys=True))
        combined.update(values)
    (stage / "all_results.json").write_text(json.dumps(combined, indent=2, sort_keys=True))
    for path in sorted(stage.iterdir(), key=lambda p: p.name == "all_results.json"):
        os.replace(path, output / path.name)
    stage.rmdir()
    sign_output_dir(output, command, finished=True)
