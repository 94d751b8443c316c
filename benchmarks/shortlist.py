"""The label shortlist against quality and inference speed: one trained LM-MLC label-stream model with a label
ranker (`--label_shortlist_size`), scored with every shortlist size, next to the trained pooled baseline's
inference speed measured in the same process.

    python -m benchmarks.many_labels --rows lmmlc-stream-shortlist --work_dir outputs/many_labels_shortlist
    python -m benchmarks.shortlist --model outputs/many_labels_shortlist/lmmlc-stream-shortlist \
        --baseline outputs/many_labels_defaults/baseline

Per shortlist size M ("all": the stream scores every label): decision thresholds tuned on validation as
`lmmlc-train` tunes them, test metrics, the ranker's recall@M on test (share of the true labels that make the
shortlist: the top M scores, since every label outside it scores below every label in it) and inference examples/s
over the test split through `predict_dataset` (the one prediction path), with the ratio to the baseline.
Writes docs/benchmarks/shortlist.{json,md,png}.
"""

from __future__ import annotations

import argparse
import copy
import time
from typing import Any

import numpy as np

from benchmarks.many_labels import COLUMNS as MANY_LABEL_COLUMNS
from benchmarks.reporting import new_figure, save_figure, write_report
from lmmlc.arguments import DataArguments
from lmmlc.configuration_lmmlc import label_names_of
from lmmlc.data import load_data
from lmmlc.evaluation import load_trained, predict_dataset, split_metrics
from lmmlc.tokenization import encode_splits
from lmmlc.training import tune_thresholds

COLUMNS = [("recall@M", "test_recall@M"), *MANY_LABEL_COLUMNS]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="A trained LM-MLC folder with a label ranker.")
    parser.add_argument("--baseline", required=True, help="A trained pooled-baseline folder (same labels).")
    parser.add_argument("--data_dir", default="../shared/data/cooking-stackexchange")
    parser.add_argument("--sizes", nargs="+", default=["32", "64", "128", "256", "all"])
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--max_seq_length", type=int, default=64)
    parser.add_argument("--max_eval_samples", type=int, help="Cut validation and test (smoke runs only).")
    parser.add_argument("--output", default="docs/benchmarks/shortlist")
    args = parser.parse_args(argv)
    for size in args.sizes:
        if size != "all" and not (size.isdigit() and int(size) >= 1):
            parser.error(f"--sizes: {size!r} is neither a positive integer nor 'all'.")
    return args


def shortlist_recall(probabilities: np.ndarray, references: np.ndarray, size: int) -> float:
    """Share of the true labels among each example's `size` highest scores (micro over examples)."""
    size = min(size, probabilities.shape[1])
    top = np.argpartition(-probabilities, size - 1, axis=1)[:, :size]
    hits = np.take_along_axis(references, top, axis=1).sum()
    return float(hits / max(references.sum(), 1))


def score(model, tokenizer, encoded, batch_size: int, tune: bool) -> tuple[dict, float]:
    """Test metrics (thresholds tuned on validation when `tune`, else the model's own) and test examples/s."""
    config = copy.deepcopy(model.config)
    validation = predict_dataset(model, tokenizer, encoded["validation"], batch_size, progress=False)
    if tune:
        tune_thresholds(config, validation, np.asarray(encoded["validation"]["labels"]))
    start = time.perf_counter()
    test = predict_dataset(model, tokenizer, encoded["test"], batch_size, progress=False)
    speed = len(encoded["test"]) / (time.perf_counter() - start)
    metrics = split_metrics({"test": test}, encoded, config)["test"]
    return {**metrics, "_test_probabilities": test}, speed


def load_ranked(path: str, option: str = "--model_path"):
    """A trained LM-MLC model and tokenizer from `path` (`option` names it in errors), refused without a ranker."""
    model, tokenizer = load_trained(path, option)
    if getattr(model, "ranker", None) is None:
        raise ValueError(f"{path} has no label ranker: train it with --label_shortlist_size.")
    return model, tokenizer


def evaluation_data(args: argparse.Namespace, names: list[str]) -> tuple[DataArguments, Any]:
    """The data arguments and validation/test data of `args` (`data_dir`, `max_seq_length`, `max_eval_samples`)."""
    data_args = DataArguments(
        data_dir=args.data_dir,
        max_seq_length=args.max_seq_length,
        max_eval_samples=args.max_eval_samples,
        max_predict_samples=args.max_eval_samples,
    )
    return data_args, load_data(data_args, names, need_train=False)


def rows_of(args: argparse.Namespace) -> list[dict]:
    model, tokenizer = load_ranked(args.model)
    baseline, baseline_tokenizer = load_trained(args.baseline, "--baseline")
    names = label_names_of(model.config)
    if label_names_of(baseline.config) != names:
        raise ValueError(f"{args.baseline} has other labels than {args.model}.")
    data_args, data = evaluation_data(args, names)
    splits = ("validation", "test")
    encoded = encode_splits(data, tokenizer, model.config, data_args, splits)
    references = np.asarray(encoded["test"]["labels"])
    baseline_encoded = encode_splits(data, baseline_tokenizer, baseline.config, data_args, splits)
    metrics, base_speed = score(baseline, baseline_tokenizer, baseline_encoded, args.batch_size, False)
    metrics.pop("_test_probabilities")
    rows = [{"row": "baseline", "labels_scored": len(names), "inference_examples_per_second": base_speed, **metrics}]
    for size in args.sizes:
        shortlisted = len(names) if size == "all" else min(int(size), len(names))
        model.config.label_shortlist_size = shortlisted
        metrics, speed = score(model, tokenizer, encoded, args.batch_size, True)
        probabilities = metrics.pop("_test_probabilities")
        rows.append(
            {
                "row": f"lmmlc shortlist {size}",
                "labels_scored": shortlisted,
                "test_recall@M": shortlist_recall(probabilities, references, shortlisted),
                "inference_examples_per_second": speed,
                **metrics,
            }
        )
        print(rows[-1], flush=True)
    for row in rows:
        row["x_baseline"] = row["inference_examples_per_second"] / base_speed
    return rows


def table(rows: list[dict]) -> str:
    head = "| row | labels scored | " + " | ".join(n for n, _ in COLUMNS) + " | inference ex/s | x baseline |"
    lines = [head, "|---" * (len(COLUMNS) + 4) + "|"]
    for r in rows:
        cells = " | ".join(f"{r[k]:.3f}" if r.get(k) is not None else "" for _, k in COLUMNS)
        speed = f"{r['inference_examples_per_second']:.1f} | {r['x_baseline']:.2f}"
        lines.append(f"| {r['row']} | {r['labels_scored']} | {cells} | {speed} |")
    return "\n".join(lines)


def plot(rows: list[dict], path) -> None:
    ours = [r for r in rows if r["row"] != "baseline"]
    figure, axis = new_figure(size=(6, 4))
    for name, key in [("P@1", "test_p@1"), ("micro-F1", "test_micro_f1@global"), ("recall@M", "test_recall@M")]:
        axis.plot([r["x_baseline"] for r in ours], [r[key] for r in ours], marker="o", label=name)
    for r in ours:
        axis.annotate(str(r["labels_scored"]), (r["x_baseline"], r["test_p@1"]), fontsize=7)
    axis.axvline(0.25, color="grey", linestyle=":", label="target 0.25x")
    axis.set(xlabel="inference speed, x pooled baseline", ylabel="test", title="label shortlist (labels scored)")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows = rows_of(args)
    text = table(rows)
    print(text)
    write_report(args.output, "benchmarks.shortlist", argv, rows, text, plot)


if __name__ == "__main__":
    main()
