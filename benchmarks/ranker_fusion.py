"""The label ranker's score fused into the label stream's: trained LM-MLC models with a label ranker
(`--label_shortlist_size`, one per seed), each scored with every `ranker_score_weight` (and, with
`--shortlist_sizes`, every shortlist size), and the setting chosen on validation.

    python -m benchmarks.many_labels --rows lmmlc-shortlist-sample64 --seed 42 --work_dir outputs/cooking/seed-42
    python -m benchmarks.ranker_fusion --models outputs/cooking/seed-42/lmmlc-shortlist-sample64 ... \\
        --output docs/benchmarks/ranker_fusion/sample64-3-seeds

Per model and setting: validation and test scored through `predict_dataset` (the one prediction path),
thresholds tuned on validation as `lmmlc-train` tunes them, every metric on both splits (`--test chosen`: test only
for the chosen setting). Rows are averaged over the models (seeds); the chosen setting is the one with the best mean
of `--select_by` on validation (ties: the smaller shortlist, then the smaller weight). Writes `output`.{json,md,png}.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np

from benchmarks.reporting import new_figure, save_figure, write_report
from benchmarks.run_quality import cell, mean_over_seeds
from benchmarks.shortlist import evaluation_data, load_ranked
from lmmlc.configuration_lmmlc import label_names_of
from lmmlc.evaluation import predict_dataset, split_metrics
from lmmlc.tokenization import encode_splits
from lmmlc.training import tune_thresholds

KEYS = (
    "eval_p@1",
    "eval_micro_f1@global",
    "test_p@1",
    "test_p@5",
    "test_ndcg@5",
    "test_micro_f1@global",
    "test_macro_f1@global",
    "test_macro_f1@per_label",
    "test_subset_accuracy@global",
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True, help="Trained LM-MLC folders with a label ranker.")
    parser.add_argument("--weights", nargs="+", type=float, default=[0.0, 0.1, 0.2, 0.3, 0.5])
    parser.add_argument("--shortlist_sizes", nargs="+", type=int, help="Shortlist sizes (default: each model's own).")
    parser.add_argument("--select_by", default="eval_p@1", help="Validation metric that chooses the setting.")
    parser.add_argument(
        "--test", choices=("all", "chosen"), default="all", help="Score test for every setting or the chosen one."
    )
    parser.add_argument("--data_dir", default="../shared/data/cooking-stackexchange")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--max_seq_length", type=int, default=64)
    parser.add_argument("--max_eval_samples", type=int, help="Cut validation and test (smoke runs only).")
    parser.add_argument("--output", default="docs/benchmarks/ranker_fusion")
    args = parser.parse_args(argv)
    if any(not (w >= 0 and np.isfinite(w)) for w in args.weights):
        parser.error(f"--weights must be finite numbers >= 0, got {args.weights}.")
    if any(size < 1 for size in args.shortlist_sizes or ()):
        parser.error(f"--shortlist_sizes must be >= 1, got {args.shortlist_sizes}.")
    if not args.select_by.startswith("eval_"):
        parser.error(f"--select_by must be a validation metric (eval_...), got {args.select_by!r}.")
    return args


def setting_metrics(model, tokenizer, encoded: dict, size: int, weight: float, batch_size: int) -> dict[str, float]:
    """Metrics of `model` on the splits of `encoded` with a shortlist of `size` labels and `ranker_score_weight =
    weight`, thresholds tuned on validation."""
    model.config.label_shortlist_size, model.config.ranker_score_weight = size, weight
    config = copy.deepcopy(model.config)
    scored = {s: predict_dataset(model, tokenizer, encoded[s], batch_size, progress=False) for s in encoded}
    tune_thresholds(config, scored["validation"], np.asarray(encoded["validation"]["labels"]))
    return {k: v for values in split_metrics(scored, encoded, config).values() for k, v in values.items()}


def model_rows(path: str, args: argparse.Namespace, settings: list[tuple[int | None, float]], splits) -> list[dict]:
    """One row per (shortlist size, weight) of one trained model on `splits`; its `seed` is the model's folder."""
    model, tokenizer = load_ranked(path, "--models")
    data_args, data = evaluation_data(args, label_names_of(model.config))
    encoded = encode_splits(data, tokenizer, model.config, data_args, splits)
    rows = []
    for size, weight in settings:
        size = size or model.config.label_shortlist_size
        metrics = setting_metrics(model, tokenizer, encoded, size, weight, args.batch_size)
        row = {"dataset": Path(args.data_dir).name, "method": f"shortlist {size}, ranker weight {weight:g}"}
        rows.append({**row, "decoding": "one_shot", "seed": path, "shortlist": size, "weight": weight, **metrics})
        shown = ", ".join(f"{k} {metrics[k]:.4f}" for k in KEYS if k in metrics)
        print(f"{path} {row['method']}: {shown}", flush=True)
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Rows averaged over the models, one per setting (its `shortlist` and `weight` kept, not averaged)."""
    summary = mean_over_seeds(rows)
    for row in summary:
        first = next(r for r in rows if r["method"] == row["method"])
        row["shortlist"], row["weight"] = first["shortlist"], first["weight"]
    return summary


def chosen(summary: list[dict], select_by: str) -> dict:
    """The summary row with the best mean `select_by` (ties: the smaller shortlist, then the smaller weight)."""
    return max(summary, key=lambda row: (row[select_by], -row["shortlist"], -row["weight"]))


def table(summary: list[dict], best: dict) -> str:
    lines = ["| shortlist | weight | models | " + " | ".join(KEYS) + " |", "|---" * (len(KEYS) + 3) + "|"]
    for row in summary:
        mark = " (chosen)" if row is best else ""
        cells = " | ".join(cell(row, key) for key in KEYS)
        lines.append(f"| {row['shortlist']} | {row['weight']:g}{mark} | {len(row['seeds'])} | {cells} |")
    return "\n".join(lines)


def plot(summary: list[dict], path) -> None:
    figure, axis = new_figure(size=(6, 4))
    for size in sorted({row["shortlist"] for row in summary}):
        members = [row for row in summary if row["shortlist"] == size]
        for key in ("eval_p@1", "test_p@1", "test_micro_f1@global", "test_macro_f1@per_label"):
            points = [(row["weight"], row[key], row.get(f"{key}_sd", 0.0)) for row in members if key in row]
            if points:
                x, y, errors = zip(*points, strict=True)
                axis.errorbar(x, y, yerr=errors, marker="o", capsize=3, label=f"{key}, shortlist {size}")
    axis.set(
        xlabel="ranker_score_weight", ylabel="mean over models (± sd)", title="ranker score fused into the stream's"
    )
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    settings = [(size, weight) for size in args.shortlist_sizes or [None] for weight in args.weights]
    splits = ("validation", "test") if args.test == "all" else ("validation",)
    rows = [row for path in args.models for row in model_rows(path, args, settings, splits)]
    best = chosen(summarize(rows), args.select_by)
    if args.test == "chosen":  # the chosen setting again, with test
        again = [(best["shortlist"], best["weight"])]
        rows = [row for row in rows if row["method"] != best["method"]]  # replaced by its rows with test
        rows += [row for path in args.models for row in model_rows(path, args, again, ("validation", "test"))]
    summary = summarize(rows)
    best = next(row for row in summary if row["method"] == best["method"])
    for row in summary:
        row["chosen"] = row is best
    text = table(summary, best)
    print(text)
    write_report(args.output, "benchmarks.ranker_fusion", argv, [*summary, *rows], text, lambda _, p: plot(summary, p))


if __name__ == "__main__":
    main()
