"""`lmmlc-find-order`: search a fixed reveal order on validation and store it in the model config."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from transformers import HfArgumentParser

from .arguments import DataArguments
from .configuration_lmmlc import LabelMaskConfig
from .data import load_data
from .evaluation import decode_dataset, load_trained
from .metrics import METRIC_NAMES, binarize, multilabel_metrics
from .order_search import genetic_search, random_search
from .tokenization import encode_splits


@dataclass
class FindOrderArguments:
    model_path: str = field(metadata={"help": "A trained lmmlc label-mask model folder (its config is updated)."})
    method: str = field(default="genetic", metadata={"help": "genetic or random."})
    budget: int = field(default=30, metadata={"help": "Orders to evaluate on validation."})
    metric: str = field(default="subset_accuracy", metadata={"help": f"One of {', '.join(METRIC_NAMES)}."})
    labels_per_round: int = field(default=1, metadata={"help": "Labels revealed per round of fixed decoding."})
    seed: int = field(default=0, metadata={"help": "Seed of the search."})
    batch_size: int = field(default=64, metadata={"help": "Texts per forward pass."})
    output_file: str | None = field(
        default=None, metadata={"help": "Report JSON (default: <model>/order_search.json)."}
    )
    save: bool = field(default=True, metadata={"help": "Store the best order (decode_strategy=fixed) in config.json."})


def main(argv: list[str] | None = None) -> None:
    """Report the best fixed order's metric next to one_shot and confidence; store the order."""
    args, data_args = HfArgumentParser((FindOrderArguments, DataArguments)).parse_args_into_dataclasses(argv)
    if args.method not in ("genetic", "random") or args.metric not in METRIC_NAMES:
        raise ValueError(f"--method genetic|random and --metric one of {METRIC_NAMES}.")
    model, tokenizer = load_trained(args.model_path)
    if not isinstance(model.config, LabelMaskConfig):
        raise ValueError(f"{args.model_path} is a baseline model: reveal orders need a label-mask model.")
    data = load_data(data_args, model.config.label_names, need_train=False)
    if "validation" not in data.splits:
        raise ValueError("The order is searched on the validation split: give --validation_file or a --data_dir.")
    validation = encode_splits(data, tokenizer, model.config, data_args, ("validation",))["validation"]
    references, thresholds = np.asarray(validation["labels"]), np.asarray(model.config.decision_thresholds())

    def metric(**options) -> float:
        probs = decode_dataset(model, tokenizer, validation, args.batch_size, progress=False, **options)
        return multilabel_metrics(binarize(probs, thresholds), references)[args.metric]

    def score(order: list[int]) -> float:
        return metric(strategy="fixed", order=order, labels_per_round=args.labels_per_round)

    one_shot = decode_dataset(model, tokenizer, validation, args.batch_size, progress=False, strategy="one_shot")
    certain_first = np.argsort(-np.abs(one_shot - thresholds).mean(axis=0), kind="stable").tolist()
    search = genetic_search if args.method == "genetic" else random_search
    result = search(score, model.config.num_labels, args.budget, args.seed, start=[certain_first])
    report = {
        "metric": args.metric,
        "method": args.method,
        "budget": args.budget,
        "seed": args.seed,
        "validation_examples": len(validation),
        "one_shot": multilabel_metrics(binarize(one_shot, thresholds), references)[args.metric],
        "confidence": metric(strategy="confidence", labels_per_round=args.labels_per_round),
        "best_fixed": result.score,
        "order": [model.config.label_names[i] for i in result.order],
        "history": result.history,
    }
    if args.save:
        model.config.decode_order, model.config.decode_strategy = result.order, "fixed"
        model.config.save_pretrained(args.model_path)
    Path(args.output_file or Path(args.model_path) / "order_search.json").write_text(json.dumps(report, indent=2))
    print(f"| {args.metric} | one_shot | confidence | best fixed order |\n|---|---|---|---|")
    print(f"| validation | {report['one_shot']:.4f} | {report['confidence']:.4f} | {result.score:.4f} |")
