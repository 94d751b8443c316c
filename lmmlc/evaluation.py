"""Scoring a trained model: probabilities, metrics at each threshold setting, the results table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    HfArgumentParser,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from .arguments import DataArguments, check_model_path, check_output_file
from .configuration_lmmlc import (
    TOKENIZER_FIX,
    LabelMaskConfig,
    MultiLabelBertConfig,
    check_decode_options,
    check_tokenizer,
    label_names_of,
    resolve_thresholds,
    untuned_thresholds_note,
)
from .data import load_data
from .data_collators import DataCollatorForLabelMask, DataCollatorForMultiLabel
from .metrics import METRIC_NAMES, RANKING_METRIC_NAMES, binarize, multilabel_metrics, ranking_metrics
from .tokenization import encode_splits

THRESHOLD_SETTINGS = ("0.5", "global", "per_label")
SPLIT_PREFIXES = {"validation": "eval", "test": "test"}
"""The splits that are scored, and the prefix of their metric keys."""


def inference_collator(tokenizer: PreTrainedTokenizerBase, config: MultiLabelBertConfig) -> DataCollatorForMultiLabel:
    """The collator of evaluation and prediction batches: every label masked, no MLM."""
    if isinstance(config, LabelMaskConfig):
        return DataCollatorForLabelMask(tokenizer, config, reveal_strategy="none")
    return DataCollatorForMultiLabel(tokenizer, config)


def predict_dataset(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    dataset: datasets.Dataset,
    batch_size: int = 64,
    progress: bool = True,
    **options: Any,
) -> np.ndarray:
    """Per-label probabilities `(examples, labels)` as the model ships: a label-mask model decodes with its
    config's strategy and thresholds (`options` override them), any other model scores in one pass.

    The one prediction path of lmmlc-train's report, lmmlc-evaluate, lmmlc-predict, lmmlc-find-order,
    lmmlc-analyze-labels and the benchmarks (the pipeline calls the same `decode`).

    Args:
        dataset: tokenized texts (`encode_dataset`); other columns are ignored.
        options: `decode` keyword arguments (strategy, labels_per_round, order, thresholds, ...).
    """
    decodes = isinstance(model.config, LabelMaskConfig) and hasattr(model, "decode")  # not an ONNX export
    if options and not decodes:
        raise ValueError(f"{sorted(options)} need a label-mask torch model; this one scores every label in one pass.")
    columns = [c for c in ("input_ids", "attention_mask", "token_type_ids") if c in dataset.column_names]
    collator = inference_collator(tokenizer, model.config)
    loader = torch.utils.data.DataLoader(dataset.select_columns(columns), batch_size=batch_size, collate_fn=collator)
    device = model.device
    name = (options.get("strategy") or model.config.decode_strategy) if decodes else "one pass"
    was_training = model.training
    model.eval()
    chunks = []
    with torch.no_grad():
        for batch in tqdm(loader, desc=f"Predicting ({name})", disable=not progress):
            batch = {k: v.to(device) for k, v in batch.items()}
            if decodes:
                chunks.append(model.decode(**batch, **options).probs.float().cpu())
            else:
                chunks.append(torch.sigmoid(model(**batch).logits.float()).cpu())
    model.train(was_training)
    return torch.cat(chunks).numpy()


def threshold_settings(config: PretrainedConfig) -> dict[str, float | list[float]]:
    """0.5, and when thresholds were tuned (the config has per-label ones) the config's global threshold and its
    per-label thresholds (`resolve_thresholds`); untuned, a global threshold other than 0.5 is shown as "global". A
    plain transformers config (the stock model) holds them as the attributes `lmmlc-train` sets."""
    settings: dict[str, float | list[float]] = {"0.5": 0.5}
    threshold = getattr(config, "threshold", 0.5)
    if getattr(config, "label_thresholds", None) is not None:
        settings.update({"global": threshold, "per_label": resolve_thresholds(config)})
    elif threshold != 0.5:
        settings["global"] = threshold
    return settings


def metrics_at_thresholds(
    probabilities: np.ndarray, references: np.ndarray, settings: dict[str, float | list[float]], prefix: str
) -> dict[str, float]:
    """`{prefix}_{metric}@{setting}` for every metric and threshold setting."""
    results = {}
    for name, thresholds in settings.items():
        scores = multilabel_metrics(binarize(probabilities, np.asarray(thresholds)), references)
        results.update({f"{prefix}_{metric}@{name}": value for metric, value in scores.items()})
    return results


def ranking_at_split(probabilities: np.ndarray, references: np.ndarray, prefix: str) -> dict[str, float]:
    """`{prefix}_{metric}` for every ranking metric (P@k, R@k, nDCG@k), which no threshold changes."""
    return {f"{prefix}_{metric}": value for metric, value in ranking_metrics(probabilities, references).items()}


def split_metrics(
    scored: dict[str, np.ndarray], encoded: dict[str, datasets.Dataset], config: MultiLabelBertConfig
) -> dict[str, dict[str, float]]:
    """Per scored split, keyed by its prefix (eval/test): every metric at every threshold setting, and the
    ranking metrics once."""
    results = {}
    for split, probabilities in scored.items():
        prefix, references = SPLIT_PREFIXES[split], np.asarray(encoded[split]["labels"])
        results[prefix] = {
            **metrics_at_thresholds(probabilities, references, threshold_settings(config), prefix),
            **ranking_at_split(probabilities, references, prefix),
        }
    return results


def format_table(results: dict[str, float], prefixes: tuple[str, ...] = ("eval", "test")) -> str:
    """A Markdown table: one row per split and threshold setting, one column per metric; then, if the
    results hold ranking metrics, a table of them with one row per split."""
    rows = [
        _table_row([prefix, setting], [results.get(f"{prefix}_{metric}@{setting}") for metric in METRIC_NAMES])
        for prefix in prefixes
        for setting in THRESHOLD_SETTINGS
    ]
    lines = [*_table_head(["split", "threshold"], METRIC_NAMES), *filter(None, rows)]
    ranking = [_table_row([p], [results.get(f"{p}_{metric}") for metric in RANKING_METRIC_NAMES]) for p in prefixes]
    if any(ranking):
        lines += ["", *_table_head(["split"], RANKING_METRIC_NAMES), *filter(None, ranking)]
    return "\n".join(lines)


def _table_head(keys: list[str], metrics: tuple[str, ...]) -> list[str]:
    """The header and separator lines of a Markdown table."""
    return ["| " + " | ".join([*keys, *metrics]) + " |", "|---" * (len(keys) + len(metrics)) + "|"]


def _table_row(keys: list[str], values: list[float | None]) -> str | None:
    """A Markdown row (4 decimals, blank where missing); None when every value is missing."""
    if all(v is None for v in values):
        return None
    return "| " + " | ".join([*keys, *("" if v is None else f"{v:.4f}" for v in values)]) + " |"


def load_trained(path: str, option: str = "--model_path") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A trained model folder (lmmlc, baseline, or a stock multi-label head) and its tokenizer; other folders are
    refused (`option` names the flag)."""
    check_model_path(path, option)
    model = AutoModelForSequenceClassification.from_pretrained(path)
    config = model.config
    if not isinstance(config, MultiLabelBertConfig) and config.problem_type != "multi_label_classification":
        raise ValueError(
            f"{path} is not a multi-label model (model_type {config.model_type!r}, problem_type "
            f"{config.problem_type!r}): train one with lmmlc-train."
        )
    tokenizer = AutoTokenizer.from_pretrained(path)
    saved, fix = Path(path, "tokenizer.json"), TOKENIZER_FIX
    if Path(path).is_dir() and not saved.exists():
        fix = f"{saved} is missing: copy it from the folder lmmlc-train wrote"
    check_tokenizer(tokenizer, model.config, path, fix)
    note = untuned_thresholds_note(model.config, path)
    if note is not None:
        print(f"Note: {note}")
    return model.eval(), tokenizer


@dataclass
class EvaluateArguments:
    model_path: str = field(default="", metadata={"help": "A trained model folder."})
    output_file: str = field(default="metrics.json", metadata={"help": "Where the metrics JSON goes."})
    batch_size: int = field(default=64, metadata={"help": "Texts per forward pass."})
    compare_strategies: list[str] | None = field(
        default=None,
        metadata={"help": "Label-mask models: also score these decoding strategies, side by side (e.g. one_shot)."},
    )


def main(argv: list[str] | None = None) -> None:
    """`lmmlc-evaluate`: a trained model folder + data -> metrics JSON (validation and test) of the decoder the
    model ships with (its config's strategy and thresholds) and, on request, of other strategies."""
    parser = HfArgumentParser((EvaluateArguments, DataArguments))
    eval_args, data_args = parser.parse_args_into_dataclasses(argv)
    check_output_file(eval_args.output_file)
    model, tokenizer = load_trained(eval_args.model_path)
    others = eval_args.compare_strategies or []
    if others and not isinstance(model.config, LabelMaskConfig):
        raise ValueError("--compare_strategies needs a label-mask model; this one scores every label in one pass.")
    for strategy in others:
        check_decode_options(strategy, model.config.labels_per_round, model.config.decode_margin)
        model.config.check_decoder(strategy, f"--compare_strategies {strategy}")  # before any split is scored
        if strategy == "fixed" and model.config.decode_order is None:
            raise ValueError("--compare_strategies fixed needs the model's decode_order (lmmlc-find-order stores one).")
    data = load_data(data_args, label_names_of(model.config), need_train=False)
    if not any(split in data.splits for split in SPLIT_PREFIXES):
        raise ValueError(
            f"The data has no validation or test split (only {sorted(data.splits)}), so there is nothing to "
            "evaluate: give --validation_file/--test_file or a --data_dir with validation.jsonl or test.jsonl."
        )
    encoded = encode_splits(data, tokenizer, model.config, data_args, tuple(SPLIT_PREFIXES))
    results = score_splits(model, tokenizer, encoded, eval_args.batch_size)
    results["decoder"] = getattr(model.config, "decode_strategy", "one pass")
    print(f"Decoder the model ships with: {results['decoder']}\n{format_table(results)}")
    if others:
        results["by_strategy"] = {}
    for strategy in others:
        results["by_strategy"][strategy] = score_splits(model, tokenizer, encoded, eval_args.batch_size, strategy)
        print(f"\nDecoder: {strategy}\n{format_table(results['by_strategy'][strategy])}")
    Path(eval_args.output_file).write_text(json.dumps(results, indent=2))


def score_splits(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    encoded: dict[str, datasets.Dataset],
    batch_size: int,
    strategy: str | None = None,
) -> dict[str, float]:
    """Every metric of every scored split (validation, test), flat, with the shipped decoder or `strategy`."""
    options = {} if strategy is None else {"strategy": strategy}
    scored = {split: predict_dataset(model, tokenizer, data, batch_size, **options) for split, data in encoded.items()}
    return {k: v for metrics in split_metrics(scored, encoded, model.config).values() for k, v in metrics.items()}
