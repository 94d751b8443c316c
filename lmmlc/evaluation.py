"""Scoring a trained model: probabilities, metrics at each threshold setting, the results table."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
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
    Trainer,
    TrainingArguments,
)

from .arguments import DataArguments, check_model_path
from .configuration_lmmlc import (
    TOKENIZER_FIX,
    LabelMaskConfig,
    MultiLabelBertConfig,
    check_tokenizer,
    label_names_of,
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


def probabilities_from_logits(logits: np.ndarray | tuple) -> np.ndarray:
    """Sigmoid of Trainer predictions (the logits, or a tuple that starts with them)."""
    logits = logits[0] if isinstance(logits, tuple) else logits
    return torch.sigmoid(torch.as_tensor(logits, dtype=torch.float32)).numpy()


def predict_probabilities(trainer: Trainer, dataset: datasets.Dataset) -> np.ndarray:
    """Per-label probabilities, shape (examples, labels), from `trainer.predict` (batched, progress bar)."""
    return probabilities_from_logits(trainer.predict(dataset).predictions)


def decode_dataset(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    dataset: datasets.Dataset,
    batch_size: int = 64,
    progress: bool = True,
    **options: Any,
) -> np.ndarray:
    """Probabilities, shape (examples, labels), from `model.decode(**options)` batch by batch (progress bar).

    Args:
        dataset: tokenized texts (`encode_dataset`); other columns are ignored.
        options: `decode` keyword arguments (strategy, labels_per_round, order, thresholds, ...).
    """
    columns = [c for c in ("input_ids", "attention_mask", "token_type_ids") if c in dataset.column_names]
    collator = inference_collator(tokenizer, model.config)
    loader = torch.utils.data.DataLoader(dataset.select_columns(columns), batch_size=batch_size, collate_fn=collator)
    device = next(model.parameters()).device
    chunks = []
    name = options.get("strategy") or model.config.decode_strategy
    for batch in tqdm(loader, desc=f"Decoding ({name})", disable=not progress):
        chunks.append(model.decode(**{k: v.to(device) for k, v in batch.items()}, **options).probs.cpu())
    return torch.cat(chunks).numpy()


def threshold_settings(config: PretrainedConfig) -> dict[str, float | list[float]]:
    """0.5, the config's global threshold and its per-label thresholds (the global one when unset).

    A plain transformers config (the stock model) holds them as the attributes `lmmlc-train` sets.
    """
    if isinstance(config, MultiLabelBertConfig):
        return {"0.5": 0.5, "global": config.threshold, "per_label": config.decision_thresholds()}
    threshold = getattr(config, "threshold", 0.5)
    return {"0.5": 0.5, "global": threshold, "per_label": getattr(config, "label_thresholds", None) or threshold}


def decision_thresholds_of(config: PretrainedConfig) -> list[float]:
    """One decision threshold per label (the per-label setting of `threshold_settings`)."""
    per_label = np.asarray(threshold_settings(config)["per_label"], dtype=float)
    return np.broadcast_to(per_label, (config.num_labels,)).tolist()


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
    saved = Path(path, "tokenizer.json")
    fix = f"{saved} is missing: copy it from the folder lmmlc-train wrote" if Path(path).is_dir() else TOKENIZER_FIX
    check_tokenizer(tokenizer, model.config, path, TOKENIZER_FIX if saved.exists() else fix)
    return model.eval(), tokenizer


def inference_trainer(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, batch_size: int) -> Trainer:
    """A Trainer used only to predict (device placement, batching, progress bar, bf16 via Accelerate)."""
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(prefix="lmmlc-"), per_device_eval_batch_size=batch_size, report_to="none"
    )
    return Trainer(model=model, args=args, data_collator=inference_collator(tokenizer, model.config))


@dataclass
class EvaluateArguments:
    model_path: str = ""
    output_file: str = "metrics.json"
    batch_size: int = 64


def main(argv: list[str] | None = None) -> None:
    """`lmmlc-evaluate`: a trained model folder + data -> metrics JSON (validation and test)."""
    parser = HfArgumentParser((EvaluateArguments, DataArguments))
    eval_args, data_args = parser.parse_args_into_dataclasses(argv)
    model, tokenizer = load_trained(eval_args.model_path)
    data = load_data(data_args, label_names_of(model.config), need_train=False)
    if not any(split in data.splits for split in SPLIT_PREFIXES):
        raise ValueError(
            f"The data has no validation or test split (only {sorted(data.splits)}), so there is nothing to "
            "evaluate: give --validation_file/--test_file or a --data_dir with validation.jsonl or test.jsonl."
        )
    trainer = inference_trainer(model, tokenizer, eval_args.batch_size)
    encoded = encode_splits(data, tokenizer, model.config, data_args, tuple(SPLIT_PREFIXES))
    scored = {split: predict_probabilities(trainer, dataset) for split, dataset in encoded.items()}
    results = {k: v for metrics in split_metrics(scored, encoded, model.config).values() for k, v in metrics.items()}
    Path(eval_args.output_file).write_text(json.dumps(results, indent=2))
    print(format_table(results))
