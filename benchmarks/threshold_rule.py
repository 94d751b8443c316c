"""Which labels get a decision threshold of their own: the fallback count (validation positives a label needs for
its own threshold; fewer take the global one) compared on trained models, and the per-model choice by cross-fitting.

    python -m benchmarks.threshold_rule --runs cooking-250=outputs/label_count/cooking-250/baseline-e1-s0@DATA ... \\
        --output docs/benchmarks/threshold_rule/choose

A run is `NAME=MODEL@DATA`: a trained model folder (scored once through `predict_dataset`, the one prediction path,
and cached, as `benchmarks.per_label` does; or an `.npz` of its `validation` and `test` scores) and its data folder.
Per run and fallback count: validation micro- and macro-F1 of out-of-fold decisions
(`lmmlc.thresholds.cross_fitted_scores`: 5 folds, thresholds tuned on the other folds), and test micro-F1, macro-F1 and
subset accuracy at thresholds tuned on the whole validation split; plus the row `auto`: the count
`choose_min_positives` picks from that run's cross-fitted scores. Writes `output`.{json,md,png}.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from benchmarks.per_label import references, run_scores
from benchmarks.reporting import grouped_bars, new_figure, save_figure, write_report
from lmmlc.metrics import multilabel_metrics
from lmmlc.thresholds import MIN_POSITIVES_CANDIDATES, choose_min_positives, cross_fitted_scores, tune_thresholds_pair


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", required=True, help="NAME=MODEL@DATA: a model folder and its data.")
    parser.add_argument("--max_seq_length", type=int, default=None, help="As the runs were trained (default: all).")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--work_dir", default="outputs/threshold_rule", help="Where model scores are cached.")
    parser.add_argument("--output", default="docs/benchmarks/threshold_rule/report")
    args = parser.parse_args(argv)
    for run in args.runs:
        name, _, rest = run.partition("=")
        model, _, data = rest.partition("@")
        scores = Path(model).is_dir() or (model.endswith(".npz") and Path(model).exists())
        if not (name and scores and Path(data, "labels.txt").exists()):
            parser.error(
                f"--runs takes NAME=MODEL@DATA: a model folder (or scores .npz) and a data folder, got {run!r}."
            )
    return args


def count_name(count: float) -> str:
    return "global" if math.isinf(count) else str(int(count))


def run_rows(name: str, model: str, data: str, args: argparse.Namespace) -> list[dict]:
    """One row per fallback count and one `auto` row of a run (the row of the count `choose_min_positives` picks)."""
    truth, names = references(data)
    scores = run_scores(model, truth, names, argparse.Namespace(**{**vars(args), "data_dir": data}))
    fitted = cross_fitted_scores(scores["validation"], truth["validation"])
    rows = {}
    for count in MIN_POSITIVES_CANDIDATES:
        _, thresholds = tune_thresholds_pair(scores["validation"], truth["validation"], min_positives=count)
        test = multilabel_metrics(scores["test"] >= np.asarray(thresholds), truth["test"])
        micro, macro = fitted[count]
        rows[count] = {
            "run": name,
            "model": model,
            "rule": count_name(count),
            "min_positives": count_name(count),
            "cv_micro_f1": micro,
            "cv_macro_f1": macro,
            "cv_objective": (micro + macro) / 2,
            **{f"test_{k}": test[k] for k in ("micro_f1", "macro_f1", "subset_accuracy")},
            "test_objective": (test["micro_f1"] + test["macro_f1"]) / 2,
        }
    return [*rows.values(), {**rows[choose_min_positives(fitted)], "rule": "auto"}]


def table(rows: list[dict]) -> str:
    columns = ["cv_micro_f1", "cv_macro_f1", "cv_objective", "test_micro_f1", "test_macro_f1", "test_subset_accuracy"]
    lines = [
        "| run | rule | count used | " + " | ".join(columns) + " |",
        "|---|---|---|" + "---|" * len(columns),
    ]
    for row in rows:
        cells = " | ".join(f"{row[c]:.4f}" for c in columns)
        lines.append(f"| {row['run']} | {row['rule']} | {row['min_positives']} | {cells} |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Test (micro-F1 + macro-F1) / 2 per run, one bar per rule."""
    runs = list(dict.fromkeys(row["run"] for row in rows))
    rules = list(dict.fromkeys(row["rule"] for row in rows))
    figure, axis = new_figure(size=(max(6, 1.2 * len(runs)), 4))
    value = {(row["run"], row["rule"]): row["test_objective"] for row in rows}
    grouped_bars(axis, runs, [(rule, [value[(run, rule)] for run in runs], None) for rule in rules], rotation=30)
    axis.set_ylabel("test (micro-F1 + macro-F1) / 2")
    low = min(value.values())
    axis.set_ylim(low - 0.02, max(value.values()) + 0.01)
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows = []
    for run in args.runs:
        name, _, rest = run.partition("=")
        model, _, data = rest.partition("@")
        rows += run_rows(name, model, data, args)
    write_report(args.output, "benchmarks.threshold_rule", argv, rows, table(rows), plot)
    print(table(rows))


if __name__ == "__main__":
    main()
