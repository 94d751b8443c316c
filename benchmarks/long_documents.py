"""Whole documents on real data: a text read in its first window only, in every window, or in one window as long
as the windows' span, for LM-MLC and the pooled baseline (each row trained by `lmmlc-train`, the same budget):

    python -m benchmarks.long_documents --data_dir ../shared/data/aapd-small --seeds 0 1 2 \\
        --output docs/benchmarks/long_documents/aapd-small

Rows (`--window` tokens, 64 by default, and `--long` tokens, 256): `first` (one window, the rest of the text cut),
`windows` (up to `--max_windows` windows of `--window` tokens), `long` (one window of `--long` tokens). The target
(issue 39): `windows` recovers at least 80% of `long`'s micro-F1 gain over `first`. Runs are read back when their
folder holds the same command's results (`benchmarks.label_count.run`). Writes `--output`.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.label_count import METRICS, SPEEDS, run
from benchmarks.reporting import grouped_bars, new_figure, save_figure, write_report

MODELS = {"lmmlc": "lmmlc", "baseline": "baseline"}
"""Row models: their `benchmarks.label_count` methods (the shipped default of each)."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", required=True, help="A data folder (train/validation/test.jsonl, labels.txt).")
    parser.add_argument("--name", default=None, help="Data set name in the rows (default: the folder's).")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--max_windows", type=int, default=8)
    parser.add_argument("--long", type=int, default=256)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--work_dir", default="outputs/long_documents")
    parser.add_argument("--output", default="docs/benchmarks/long_documents/long_documents")
    args = parser.parse_args(argv)
    if not (Path(args.data_dir) / "train.jsonl").is_file():
        parser.error(f"--data_dir {args.data_dir}: no train.jsonl there.")
    args.name = args.name or Path(args.data_dir).name
    return args


def settings(args: argparse.Namespace) -> dict[str, tuple[int, list[str]]]:
    """Each reading of the text: tokens per window and the extra `lmmlc-train` options."""
    return {
        "first": (args.window, ["--max_windows", "1"]),
        "windows": (args.window, ["--max_windows", str(args.max_windows)]),
        "long": (args.long, ["--max_windows", "1"]),
    }


def train_row(args: argparse.Namespace, model: str, setting: str, seed: int) -> dict:
    """One trained row through `benchmarks.label_count.run` (its folder `work_dir/<name>-<setting>/...`)."""
    length, extra = settings(args)[setting]
    options = argparse.Namespace(batch_size=args.batch_size, max_seq_length=length, work_dir=args.work_dir, extra=extra)
    row = run(options, f"{args.name}-{setting}", args.data_dir, MODELS[model], args.epochs, seed)
    return {**row, "dataset": args.name, "setting": setting, "model": model}


def means(rows: list[dict]) -> list[dict]:
    """Mean and sd over seeds of each (model, setting)."""
    out = []
    for key in sorted({(r["model"], r["setting"]) for r in rows}):
        group = [r for r in rows if (r["model"], r["setting"]) == key]
        summary = {"model": key[0], "setting": key[1], "seeds": [r["seed"] for r in group]}
        for _, metric in METRICS + SPEEDS:
            values = [r[metric] for r in group if r.get(metric) is not None]
            summary[metric] = statistics.fmean(values) if values else None
            summary[f"{metric}_sd"] = statistics.stdev(values) if len(values) > 1 else None
        out.append(summary)
    return out


def recovered(summary: list[dict], model: str, metric: str = "test_micro_f1@per_label") -> float | None:
    """The share of `long`'s gain over `first` that `windows` recovers (None when a row is missing or no gain)."""
    value = {r["setting"]: r[metric] for r in summary if r["model"] == model}
    if not {"first", "windows", "long"} <= set(value) or value["long"] == value["first"]:
        return None
    return (value["windows"] - value["first"]) / (value["long"] - value["first"])


def table(summary: list[dict]) -> str:
    columns = METRICS[:5] + SPEEDS
    lines = [
        "| model | reading | seeds | " + " | ".join(n for n, _ in columns) + " |",
        "|---" * (len(columns) + 3) + "|",
    ]
    for row in summary:
        cells = []
        for _, key in columns:
            value, sd, digits = row[key], row[f"{key}_sd"], 1 if key in dict(SPEEDS).values() else 4
            cells.append("" if value is None else f"{value:.{digits}f}" + (f" ± {sd:.{digits}f}" if sd else ""))
        lines.append(f"| {row['model']} | {row['setting']} | {len(row['seeds'])} | " + " | ".join(cells) + " |")
    for model in sorted({r["model"] for r in summary}):
        share = recovered(summary, model)
        if share is not None:
            lines.append(
                f"\n{model}: every window recovers {share:.0%} of the long window's micro-F1 gain over the first."
            )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    summary = means(rows)
    figure, axes = new_figure(1, 1, size=(8, 3.5))
    columns = [name for name, _ in METRICS[:5]]
    bars = []
    for row in summary:
        values = [row[key] for _, key in METRICS[:5]]
        errors = [row[f"{key}_sd"] or 0.0 for _, key in METRICS[:5]]
        bars.append((f"{row['model']} {row['setting']}", values, errors))
    grouped_bars(axes, columns, bars)
    axes.set(title="test, mean over seeds")
    save_figure(figure, axes, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows = []
    for seed in args.seeds:
        for model in args.models:
            for setting in settings(args):
                rows.append(train_row(args, model, setting, seed))
                print(json.dumps({k: v for k, v in rows[-1].items() if k != "command"}), flush=True)
    summary = means(rows)
    report_table = table(summary)
    print(report_table)
    write_report(args.output, "benchmarks.long_documents", argv, rows, report_table, plot, extra={"means": summary})


if __name__ == "__main__":
    main()
