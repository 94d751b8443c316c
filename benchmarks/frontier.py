"""Set-level against label-level accuracy: every method and decoding of `benchmarks.run_quality` reports on one plot.

python -m benchmarks.frontier docs/benchmarks/views/goemotions/quality_cpu.json \
    docs/benchmarks/views/aapd-small/quality_cpu.json --output docs/benchmarks/views/frontier

Per dataset: test subset accuracy against micro-F1 (and macro-F1) at the tuned global threshold, mean over seeds,
for every (method, decoding) row; the reference is the all-masked model's one pass (`--reference`). Writes
`output`.json/.md/.png. Reads reports only: it trains nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.reporting import new_figure, save_figure, write_report

METRICS = ("subset_accuracy", "micro_f1", "macro_f1")


def frontier_rows(reports: list[dict], reference: str, setting: str = "global") -> list[dict]:
    """One row per dataset, method and decoding (taken from the first report that has it): test metrics at `setting`
    (mean and sd over seeds), the gain over the `reference` method's one pass on the same dataset, and test
    examples/s relative to that reference timed in the same report (speeds are ratios within one run only)."""
    summary, reference_speed = {}, {}
    for index, report in enumerate(reports):
        for r in report["summary"]:  # a repeated row: the first report's
            summary.setdefault((r["dataset"], r["method"], r["decoding"]), (index, r))
            if (r["method"], r["decoding"]) == (reference, "one_shot"):
                reference_speed[index, r["dataset"]] = r.get("test_examples_per_second")
    rows = []
    for index, r in summary.values():
        row = {"dataset": r["dataset"], "method": r["method"], "decoding": r["decoding"], "seeds": r.get("seeds")}
        for metric in METRICS:
            key = f"test_{metric}@{setting}"
            row[metric], row[f"{metric}_sd"] = r.get(key), r.get(f"{key}_sd")
        row["examples_per_second"] = r.get("test_examples_per_second")
        speeds = (row["examples_per_second"], reference_speed.get((index, r["dataset"])))
        row["speed_ratio"] = speeds[0] / speeds[1] if None not in speeds else None
        rows.append(row)
    for row in rows:
        base = next(
            (b for b in rows if (b["dataset"], b["method"], b["decoding"]) == (row["dataset"], reference, "one_shot")),
            None,
        )
        for metric in METRICS:
            ready = base is not None and None not in (row[metric], base[metric])
            row[f"{metric}_gain"] = row[metric] - base[metric] if ready else None
    return rows


def _cell(value: float | None, sd: float | None = None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    text = f"{value:+.4f}" if signed else f"{value:.4f}"
    return text + (f" ± {sd:.4f}" if sd is not None else "")


def markdown(rows: list[dict], reference: str) -> str:
    header = ["dataset", "method", "decoding", *METRICS, *(f"{m} gain" for m in METRICS), "x one pass ex/s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["dataset"], r["method"], r["decoding"]]
        cells += [_cell(r[m], r[f"{m}_sd"]) for m in METRICS]
        cells += [_cell(r[f"{m}_gain"], signed=True) for m in METRICS]
        cells.append("n/a" if r["speed_ratio"] is None else f"{r['speed_ratio']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Gains: against `{reference}` decoded in one pass on the same dataset (test). Speed ratio: against that "
        "reference timed in the same run (report); n/a where the run had none."
    )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Subset accuracy (y) against micro-F1 (x), one panel per dataset: a color per method, a marker per decoding."""
    import matplotlib

    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    figure, axes = new_figure(1, len(datasets), size=(6.5 * len(datasets), 4.8), squeeze=False)
    # decoders removed since (issue 37) keep their markers: the reports that recorded them still plot as they did
    markers = {"one_shot": "o", "confidence": "s", "certain": "x", "certain-retuned": "P", "beam": "^"}
    methods = list(dict.fromkeys(r["method"] for r in rows))
    colors = matplotlib.colormaps["tab10"]
    for axis, dataset in zip(axes[0], datasets, strict=True):
        for r in (r for r in rows if r["dataset"] == dataset and None not in (r["micro_f1"], r["subset_accuracy"])):
            axis.errorbar(
                r["micro_f1"], r["subset_accuracy"], xerr=r["micro_f1_sd"], yerr=r["subset_accuracy_sd"],
                marker=markers.get(r["decoding"], "*"), color=colors(methods.index(r["method"]) % 10),
                label=f"{r['method']} / {r['decoding']}", capsize=2, markersize=8,
            )  # fmt: skip
        axis.set_xlabel("test micro-F1 (tuned global threshold)")
        axis.set_ylabel("test subset accuracy")
        axis.set_title(dataset)
    save_figure(figure, list(axes[0]), path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="JSON reports of benchmarks.run_quality.")
    parser.add_argument("--reference", default="lmmlc-defaults", help="The all-masked method gains are taken over.")
    parser.add_argument("--output", default="docs/benchmarks/views/frontier")
    args = parser.parse_args(argv)
    reports = [json.loads(Path(p).read_text()) for p in args.reports]
    rows = frontier_rows(reports, args.reference)
    table = markdown(rows, args.reference)
    print(table)
    write_report(args.output, "benchmarks.frontier", argv, rows, table, plot)


if __name__ == "__main__":
    main()
