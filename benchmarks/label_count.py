"""Quality and speed against the number of labels: LM-MLC rows against the pooled baseline (and the stock head) on
data sets of 28 to 736 labels, each row trained by `lmmlc-train` with the same budget, and each row's test metrics
at the thresholds its model predicts with (its per-label thresholds, tuned on validation by `lmmlc-train`).

Data sets are `name=folder` pairs; the cooking-stackexchange subsets come from `benchmarks.label_subsets`:

    python -m benchmarks.label_subsets --source ../shared/data/cooking-stackexchange --top 100 250
    python -m benchmarks.label_count --datasets cooking-250=outputs/data/cooking-stackexchange-top250 \\
        --methods lmmlc baseline --seeds 0 --epochs 1 --output docs/benchmarks/label_count/choose

A run whose folder already holds the results of the same command is read back, not retrained (a benchmark that
breaks off resumes); `--from_reports a.json b.json` averages the rows of earlier reports (seeds run apart). Writes
`--output`.{json,md,png}: one row per (data set, method, epochs, seed), the means over seeds, and a chart of each
metric against the label count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.reporting import new_figure, save_figure, write_report
from lmmlc.output_dir import record_output

METHODS = {
    "lmmlc": [],
    "lmmlc-before": ["--pooled_text_head", "false"],
    "lmmlc-head-uncorrected": ["--pooled_text_head", "true"],
    **{f"lmmlc-top{k}": ["--pooled_text_head", "true", "--label_stream_layers", str(k)] for k in (1, 2, 3)},
    **{f"lmmlc-sample{k}": ["--pooled_text_head", "true", "--label_sample_size", str(k)] for k in (8, 16, 32)},
    "lmmlc-mixed16": ["--pooled_text_head", "true", "--label_sample_size", "16", "--label_negatives", "mixed"],
    "baseline": ["--model_type", "baseline"],
    "stock": ["--model_type", "stock"],
}
"""`lmmlc-train` options of each row: `lmmlc` is the shipped default; `lmmlc-before` the default past one group
before docs/experiments/NOTEBOOK.md 5i (cloze scores only); `lmmlc-head-uncorrected` the pooled text head trained on
every label beside the stream's sampled labels, the default since 5i (pinned, so its rows keep their meaning; named
for 5i's ablation: a sampling correction of the stream's loss, `lmmlc-head` in choose-cooking-250, lost and was
removed);
`lmmlc-topK` that row with label slots in the top K encoder layers only (docs/experiments/NOTEBOOK.md 5j);
`lmmlc-sampleK` that row with K label slots per training example instead of one group's 64 (5n), `lmmlc-mixed16`
16 slots, half of them the negatives its label ranker ranks highest and half uniform (5q; `lmmlc-rankedK`, all of them
ranked, 5o, lost to it and was removed)."""
METRICS = [
    ("micro-F1", "test_micro_f1@per_label"),
    ("macro-F1", "test_macro_f1@per_label"),
    ("subset acc.", "test_subset_accuracy@per_label"),
    ("P@1", "test_p@1"),
    ("P@5", "test_p@5"),
    ("micro-F1 global thr.", "test_micro_f1@global"),
    ("subset acc. global thr.", "test_subset_accuracy@global"),
]
"""Test metrics at the thresholds the model predicts with (per label), the ranking metrics, and two metrics at the
tuned global threshold (per-label thresholds tuned on a small validation set can overfit it)."""
CHOICE = [("val micro-F1", "eval_micro_f1@per_label"), ("val macro-F1", "eval_macro_f1@per_label")]
SPEEDS = [("train ex/s", "train_examples_per_second"), ("scoring ex/s", "scoring_examples_per_second")]
"""Training speed (the Trainer's), and validation + test examples per second of the rest of the run (scoring both,
tuning thresholds, loading and writing included): an upper bound on inference time, comparable across rows."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", type=dataset_pair, help="name=folder pairs.")
    parser.add_argument("--methods", nargs="+", choices=sorted(METHODS))
    parser.add_argument(
        "--from_reports", nargs="+", help="Instead of training: average the rows of earlier reports (e.g. other seeds)."
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", nargs="+", type=float, default=[1.0])
    parser.add_argument("--max_seq_length", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--work_dir", default="outputs/label_count")
    parser.add_argument("--output", default="docs/benchmarks/label_count/label_count")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="More lmmlc-train options, every row.")
    args = parser.parse_args(argv)
    if args.from_reports:
        missing = [path for path in args.from_reports if not Path(path).is_file()]
        if missing or args.datasets or args.methods:
            parser.error(f"--from_reports takes report files alone (missing: {missing}).")
        return args
    if not args.datasets or not args.methods:
        parser.error("give --datasets and --methods (or --from_reports).")
    for name, folder in args.datasets:
        if not (Path(folder) / "train.jsonl").is_file() or not (Path(folder) / "labels.txt").is_file():
            parser.error(f"--datasets {name}={folder}: no train.jsonl and labels.txt there.")
    return args


def dataset_pair(text: str) -> tuple[str, str]:
    """`name=folder` of `--datasets`."""
    name, _, folder = text.partition("=")
    if not name or not folder:
        raise argparse.ArgumentTypeError(f"{text!r}: give name=folder, e.g. cooking-250=outputs/data/cooking-top250.")
    return name, folder


def run_options(args: argparse.Namespace, folder: str, method: str, epochs: float, seed: int, output: Path) -> list:
    """The `lmmlc-train` command line of one run."""
    options = ["--data_dir", folder, "--output_dir", str(output), "--num_train_epochs", str(epochs)]
    options += ["--per_device_train_batch_size", str(args.batch_size), "--per_device_eval_batch_size", "64"]
    options += ["--max_seq_length", str(args.max_seq_length), "--seed", str(seed), "--logging_steps", "50"]
    options += ["--save_strategy", "no", "--report_to", "none", "--overwrite_output_dir"]
    return options + METHODS[method] + args.extra


def run(args: argparse.Namespace, name: str, folder: str, method: str, epochs: float, seed: int) -> dict:
    """One trained row (read back when its folder holds the results of the same command)."""
    from lmmlc.training import main as train

    output = Path(args.work_dir) / name / f"{method}-e{epochs:g}-s{seed}"
    options = run_options(args, folder, method, epochs, seed, output)
    record = output / "label_count_run.json"
    done = record.is_file() and json.loads(record.read_text())["options"] == options
    if not done:
        start = time.perf_counter()
        train(options)
        record.write_text(json.dumps({"options": options, "wall_seconds": time.perf_counter() - start}))
        record_output(output, record.name)  # cleared with the run by a later --overwrite_output_dir
    results = json.loads((output / "all_results.json").read_text())
    wall = json.loads(record.read_text())["wall_seconds"]
    scored = sum(count_lines(Path(folder) / f"{split}.jsonl") for split in ("validation", "test"))
    speed = {
        "train_examples_per_second": results.get("train_samples_per_second"),
        "scoring_examples_per_second": scored / max(wall - results.get("train_runtime", 0.0), 1e-9),
    }
    config = json.loads((output / "config.json").read_text())
    row = {"dataset": name, "labels": len(config["id2label"]), "method": method, "epochs": epochs, "seed": seed}
    keys = [key for _, key in METRICS + CHOICE]
    return {**row, **{key: results.get(key) for key in keys}, **speed, "command": "lmmlc-train " + " ".join(options)}


def count_lines(path: Path) -> int:
    """Non-empty lines of a JSON Lines file (0 when it is missing)."""
    return sum(1 for line in path.open(encoding="utf-8") if line.strip()) if path.is_file() else 0


def means(rows: list[dict]) -> list[dict]:
    """Mean and sd over seeds of each (data set, method, epochs)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["method"], row["epochs"]), []).append(row)
    out = []
    for (dataset, method, epochs), group in groups.items():
        summary = {"dataset": dataset, "labels": group[0]["labels"], "method": method, "epochs": epochs}
        summary["seeds"] = [row["seed"] for row in group]
        for _, key in METRICS + CHOICE + SPEEDS:
            values = [row[key] for row in group if row.get(key) is not None]
            summary[key] = statistics.fmean(values) if values else None
            summary[f"{key}_sd"] = statistics.stdev(values) if len(values) > 1 else None
        out.append(summary)
    return out


def table(summary: list[dict]) -> str:
    columns = METRICS + CHOICE + SPEEDS
    lines = ["| data set | labels | method | epochs | seeds | " + " | ".join(n for n, _ in columns) + " |"]
    lines.append("|---" * (len(columns) + 5) + "|")
    for row in summary:
        cells = []
        for _, key in columns:
            value, sd = row.get(key), row.get(f"{key}_sd")
            digits = 1 if key in dict(SPEEDS).values() else 4
            cells.append("" if value is None else f"{value:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd else ""))
        head = f"| {row['dataset']} | {row['labels']} | {row['method']} | {row['epochs']:g} | {len(row['seeds'])} | "
        lines.append(head + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    summary = means(rows)
    figure, axes = new_figure(1, len(METRICS), size=(4 * len(METRICS), 3.5))
    for axis, (title, key) in zip(axes, METRICS, strict=True):
        for method, epochs in sorted({(r["method"], r["epochs"]) for r in summary}):
            points = sorted((r["labels"], r[key]) for r in summary if (r["method"], r["epochs"]) == (method, epochs))
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{method} x{epochs:g}")
        axis.set(xscale="log", xlabel="labels", title=f"test {title}")
    save_figure(figure, axes[-1], path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows = [row for path in args.from_reports or [] for row in json.loads(Path(path).read_text())["rows"]]
    for name, folder in args.datasets or []:
        for epochs in args.epochs:
            for seed in args.seeds:
                for method in args.methods:
                    rows.append(run(args, name, folder, method, epochs, seed))
                    print(json.dumps({k: v for k, v in rows[-1].items() if k != "command"}), flush=True)
    summary = means(rows)
    report_table = table(summary)
    print(report_table)
    write_report(args.output, "benchmarks.label_count", argv, rows, report_table, plot, extra={"means": summary})


if __name__ == "__main__":
    main()
