"""`lmmlc-find-order`: search a fixed reveal order on validation and store it in the model config."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from transformers import HfArgumentParser

from .arguments import DataArguments, check_output_file
from .configuration_lmmlc import LabelMaskConfig, resolve_thresholds
from .data import load_data
from .evaluation import load_trained, predict_dataset
from .metrics import LOWER_IS_BETTER, METRIC_NAMES, binarize, multilabel_metrics
from .order_search import Order, SearchResult, genetic_search, random_search
from .output_dir import record_output
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
    save: bool = field(
        default=True,
        metadata={"help": "Store the best order (decode_strategy=fixed) when it beats the current decoder."},
    )


def search_order(
    search: Callable[..., SearchResult],
    score: Callable[[Order], float],
    metric: str,
    n: int,
    budget: int,
    seed: int,
    start: Sequence[Order] = (),
) -> SearchResult:
    """Run `search` (which maximises) in the direction of `metric`; the result holds the metric's own values."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    result = search(lambda order: sign * score(order), n, budget, seed, start=start)
    return SearchResult(result.order, sign * result.score, [(k, sign * v) for k, v in result.history])


def beats(metric: str, found: float, current: float) -> bool:
    """Whether `found` is strictly better than `current` on `metric` (lower is better for hamming_loss)."""
    return found < current if metric in LOWER_IS_BETTER else found > current


def main(argv: list[str] | None = None) -> None:
    """Report the best fixed order's metric next to one_shot and confidence; store the order."""
    args, data_args = HfArgumentParser((FindOrderArguments, DataArguments)).parse_args_into_dataclasses(argv)
    if args.method not in ("genetic", "random") or args.metric not in METRIC_NAMES:
        raise ValueError(f"--method genetic|random and --metric one of {METRIC_NAMES}.")
    if args.output_file is not None:
        check_output_file(args.output_file)
    model, tokenizer = load_trained(args.model_path)
    if not isinstance(model.config, LabelMaskConfig):
        raise ValueError(f"{args.model_path} is not a label-mask model: reveal orders need one (model_type lmmlc).")
    data = load_data(data_args, model.config.label_names, need_train=False)
    if "validation" not in data.splits:
        raise ValueError("The order is searched on the validation split: give --validation_file or a --data_dir.")
    validation = encode_splits(data, tokenizer, model.config, data_args, ("validation",))["validation"]
    references, thresholds = np.asarray(validation["labels"]), np.asarray(resolve_thresholds(model.config))

    def metric(**options) -> float:
        probs = predict_dataset(model, tokenizer, validation, args.batch_size, progress=False, **options)
        return multilabel_metrics(binarize(probs, thresholds), references)[args.metric]

    def score(order: list[int]) -> float:
        return metric(strategy="fixed", order=order, labels_per_round=args.labels_per_round)

    one_shot = predict_dataset(model, tokenizer, validation, args.batch_size, progress=False, strategy="one_shot")
    certain_first = np.argsort(-np.abs(one_shot - thresholds).mean(axis=0), kind="stable").tolist()
    search = genetic_search if args.method == "genetic" else random_search
    result = search_order(
        search, score, args.metric, model.config.num_labels, args.budget, args.seed, start=[certain_first]
    )
    current_strategy = model.config.decode_strategy
    report = {
        "metric": args.metric,
        "method": args.method,
        "budget": args.budget,
        "seed": args.seed,
        "validation_examples": len(validation),
        "one_shot": multilabel_metrics(binarize(one_shot, thresholds), references)[args.metric],
        "confidence": metric(strategy="confidence", labels_per_round=args.labels_per_round),
        "best_fixed": result.score,
        "current_strategy": current_strategy,
        "current": metric(),
        "order": [model.config.label_names[i] for i in result.order],
        "history": result.history,
    }
    report["stored"] = args.save and beats(args.metric, result.score, report["current"])
    if report["stored"]:
        model.config.decode_order, model.config.decode_strategy = result.order, "fixed"
        model.config.labels_per_round = args.labels_per_round  # the setting the order was scored with
        model.config.save_pretrained(args.model_path)
        mark_results_stale(Path(args.model_path), current_strategy)
    Path(args.output_file or Path(args.model_path) / "order_search.json").write_text(json.dumps(report, indent=2))
    if args.output_file is None:
        record_output(args.model_path, "order_search.json")  # the run's own file for a later --overwrite_output_dir
    print(f"| {args.metric} | one_shot | confidence | best fixed order |\n|---|---|---|---|")
    print(f"| validation | {report['one_shot']:.4f} | {report['confidence']:.4f} | {result.score:.4f} |")
    print(outcome(args, report))


STALE_KEY = "stale_decoder"
"""Set in a folder's all_results.json when its metrics were scored with a decoder the config no longer ships."""


def mark_results_stale(folder: Path, scored_with: str) -> None:
    """Mark `folder`'s all_results.json (when it has one) as scored with the decoder `scored_with`, which a stored
    fixed order replaced: lmmlc-push refuses such metrics until lmmlc-evaluate rescores them."""
    path = folder / "all_results.json"
    if path.is_file():
        results = json.loads(path.read_text(encoding="utf-8"))
        results[STALE_KEY] = scored_with
        path.write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")


def outcome(args: FindOrderArguments, report: dict) -> str:
    """What was stored in the config, or why nothing was."""
    found, current = f"{args.metric} {report['best_fixed']:.4f}", f"{report['current']:.4f}"
    if report["stored"]:
        return (
            f"Stored the fixed order ({found}, {report['current_strategy']} had {current}) in {args.model_path}. Its "
            f"all_results.json was scored with {report['current_strategy']}: rescore it with lmmlc-evaluate "
            f"--model_path {args.model_path} --output_file {Path(args.model_path) / 'all_results.json'} (and the "
            "data) before lmmlc-push."
        )
    if not args.save:
        return f"Not stored (--save False); the best fixed order had {found}."
    return (
        f"Not stored: the best fixed order ({found}) does not beat the current decoder "
        f"({report['current_strategy']}, {current}) on validation; the config is unchanged."
    )
