"""Mean ± sd over seeds, from several committed reports: `run_quality` reports (rows named by dataset, method and
decoding) and `many_labels` reports (rows named by `row`; dataset and seed read from the row's lmmlc-train command; rows
without a seed, such as anchors, are left out and named).

    python -m benchmarks.seed_means --reports docs/benchmarks/cpu-full/baseline/quality_cpu-full.json \\
        docs/benchmarks/cpu-full/goemotions-pooled-head/quality_cpu-full.json \\
        docs/benchmarks/cpu-full/goemotions-seeds/quality_cpu-full.json \\
        --dataset goemotions --output docs/benchmarks/cpu-full/goemotions-3-seeds

Writes `output`.{json,md,png}: one row per method (every metric's mean and sd, and the seeds); the table and the
plot show the metrics named by `--keys`. The machine recorded is the one that combined the reports.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.reporting import grouped_bars, new_figure, save_figure, write_report
from benchmarks.run_quality import cell, mean_over_seeds

KEYS = (
    "eval_micro_f1@global",
    "eval_macro_f1@per_label",
    "test_micro_f1@global",
    "test_macro_f1@per_label",
    "test_macro_f1@global",
    "test_subset_accuracy@global",
    "test_p@1",
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", nargs="+", required=True, help="Report JSON files (run_quality or many_labels).")
    parser.add_argument("--dataset", help="Keep only this dataset's rows (run_quality reports).")
    parser.add_argument("--decoding", default="one_shot", help="Keep only this decoding (run_quality reports).")
    parser.add_argument("--keys", nargs="+", default=list(KEYS), help="Metrics shown in the table.")
    parser.add_argument("--output", required=True, help="Path prefix of the .json/.md/.png report.")
    return parser.parse_args(argv)


def _many_labels_row(row: dict) -> dict:
    """A many_labels row in run_quality's naming: the dataset and seed from its lmmlc-train command (an anchor
    row has no command and no seed)."""
    words = row.get("command", "").split()
    flag = {name: words[i + 1] for i, name in enumerate(words[:-1]) if name in ("--data_dir", "--seed")}
    named = {"dataset": Path(flag.get("--data_dir", "cooking-stackexchange")).name, "method": row["row"]}
    return {**named, "decoding": "one_shot", "seed": int(flag["--seed"]) if "--seed" in flag else None, **row}


def report_rows(path: Path, dataset: str | None, decoding: str) -> list[dict]:
    """A report's rows in run_quality's naming (dataset, method, decoding, seed), filtered by dataset and
    decoding. Rows without a seed (anchors, older reports) cannot be averaged over seeds: left out, and named."""
    rows = []
    for row in json.loads(path.read_text())["rows"]:
        row = _many_labels_row(row) if "row" in row else row
        if (dataset is not None and row["dataset"] != dataset) or row["decoding"] != decoding:
            continue
        if row.get("seed") is None:
            print(f"{path}: {row['method']} has no seed; left out.")
            continue
        rows.append(row)
    return rows


def combined(paths: list[Path], dataset: str | None, decoding: str, keys: list[str]) -> list[dict]:
    """Mean over seeds per method; a seed of a method given twice (it would count twice), no rows, or a key no
    row holds are errors."""
    rows = [row for path in paths for row in report_rows(path, dataset, decoding)]
    if not rows:
        raise ValueError(f"No rows for dataset {dataset!r} and decoding {decoding!r} in {[str(p) for p in paths]}.")
    seen: set[tuple] = set()
    for row in rows:
        key = (row["dataset"], row["method"], row["seed"])
        if key in seen:
            raise ValueError(f"{key} appears twice in the reports: pass each seed's report once.")
        seen.add(key)
    missing = [key for key in keys if not any(key in row for row in rows)]
    if missing:
        raise ValueError(f"No row holds {missing}: check --keys against the reports' metric names.")
    return mean_over_seeds(rows)


def table(summary: list[dict], keys: list[str]) -> str:
    """A Markdown row per method: its seeds and `mean ± sd` of each key."""
    lines = ["| dataset | method | seeds | " + " | ".join(keys) + " |", "|---" * (len(keys) + 3) + "|"]
    for row in summary:
        cells = " | ".join(cell(row, key) for key in keys)
        lines.append(f"| {row['dataset']} | {row['method']} | {', '.join(map(str, row['seeds']))} | {cells} |")
    return "\n".join(lines)


def plot(summary: list[dict], path: Path, keys: list[str]) -> None:
    """Bars with sd error bars of the keys that are scores in [0, 1] (speeds and seconds are left to the table)."""
    keys = [key for key in keys if all(0.0 <= (row.get(key) or 0.0) <= 1.0 for row in summary)]
    figure, axis = new_figure(size=(10, 4))
    bars = [
        (
            f"{row['dataset']} {row['method']}",
            [row.get(key) or 0.0 for key in keys],
            [row.get(f"{key}_sd", 0.0) for key in keys],
        )
        for row in summary
    ]
    grouped_bars(axis, keys, bars, fontsize=7, rotation=15)
    axis.set(ylabel="mean over seeds (± sd)")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    summary = combined([Path(p) for p in args.reports], args.dataset, args.decoding, args.keys)
    text = table(summary, args.keys)
    print(text)
    write_report(args.output, "benchmarks.seed_means", argv, summary, text, lambda rows, p: plot(rows, p, args.keys))


if __name__ == "__main__":
    main()
