"""Two rows compared label by label, and whether the test split can tell them apart.

    python -m benchmarks.per_label --runs lmmlc=outputs/seed-42/lmmlc-pooled-head lmmlc=outputs/seed-43/... \\
        baseline=outputs/seed-42/baseline baseline=outputs/seed-43/... \\
        --data_dir ../shared/data/goemotions --output docs/benchmarks/per_label/goemotions-cpu-full

A run is `ROW=PATH`: a trained model folder (scored through `predict_dataset`, the one prediction path, and cached
under `--work_dir`) or an `.npz` of `validation` and `test` scores (`benchmarks.anchors --scores_file`); runs of one
ROW are its seeds, and exactly two ROWs are compared, the first named minus the second. Every run's thresholds are
tuned on validation alone, as `lmmlc-train` ships them (a global one for micro-F1 and subset accuracy, one per label
for macro-F1). Per label: test F1 at its own threshold and average precision (threshold-free), each the mean over
the row's runs, and the label's positives. The gap's uncertainty from the test sample: a paired bootstrap over test
examples (the same resamples for every run, thresholds held fixed), the first row's mean over runs minus the
second's. Writes `output`.{json,md,png}.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score

from benchmarks.anchors import label_matrix, load_splits
from benchmarks.reporting import new_figure, save_figure, write_report
from lmmlc.arguments import DataArguments
from lmmlc.configuration_lmmlc import label_names_of
from lmmlc.data import load_data
from lmmlc.evaluation import load_trained, predict_dataset
from lmmlc.metrics import f1_from_counts, label_counts, outcome_indicators
from lmmlc.thresholds import tune_shipped_thresholds
from lmmlc.tokenization import encode_splits

METRICS = ("macro_f1", "micro_f1", "subset_accuracy")
"""Bootstrapped metrics: macro-F1 at per-label thresholds, micro-F1 and subset accuracy at the global one."""
SPLITS = ("validation", "test")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", required=True, help="ROW=PATH: a trained model folder or a scores .npz.")
    parser.add_argument("--data_dir", default="../shared/data/goemotions")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--work_dir", default="outputs/per_label", help="Where model scores are cached.")
    parser.add_argument("--resamples", type=int, default=2000, help="Bootstrap resamples of the test examples.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the bootstrap resamples.")
    parser.add_argument("--output", default="docs/benchmarks/per_label/report")
    args = parser.parse_args(argv)
    for run in args.runs:
        row, _, path = run.partition("=")
        if not row or not path or not Path(path).exists():
            parser.error(f"--runs takes ROW=PATH with an existing model folder or .npz, got {run!r}.")
    rows = list(dict.fromkeys(run.partition("=")[0] for run in args.runs))
    if len(rows) != 2:
        parser.error(f"--runs must name exactly two rows (the first minus the second), got {rows}.")
    if args.resamples < 100:
        parser.error(f"--resamples must be at least 100 for a 95% interval, got {args.resamples}.")
    args.rows = rows
    return args


def references(data_dir: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """The validation and test label matrices of `data_dir` and its label names (the columns' order)."""
    splits, names = load_splits(data_dir)
    return {split: label_matrix(splits[split], names) for split in SPLITS}, names


def model_scores(path: str, names: list[str], args: argparse.Namespace) -> dict[str, np.ndarray]:
    """Validation and test probabilities of a trained model folder (labels `names`, decoded in one pass), cached in
    `--work_dir` under the model folder's path and weights' time, the data folder and the sequence length."""
    weights = max((file.stat().st_mtime_ns for file in Path(path).glob("*.safetensors")), default=0)
    source = f"{Path(path).resolve()}|{weights}|{Path(args.data_dir).resolve()}|{args.max_seq_length}"
    cache = Path(args.work_dir, f"{Path(path).name}-{hashlib.sha1(source.encode()).hexdigest()[:12]}.npz")
    if cache.exists():
        return dict(np.load(cache))
    model, tokenizer = load_trained(path, "--runs")
    if getattr(model.config, "decode_strategy", "one_shot") != "one_shot":
        raise ValueError(f"{path} decodes in rounds ({model.config.decode_strategy}); give a one-pass model.")
    if label_names_of(model.config) != names:
        raise ValueError(f"{path} has other labels (or another order) than {args.data_dir}/labels.txt.")
    data_args = DataArguments(data_dir=args.data_dir, max_seq_length=args.max_seq_length)
    data = load_data(data_args, names, need_train=False)
    encoded = encode_splits(data, tokenizer, model.config, data_args, SPLITS)
    scores = {split: predict_dataset(model, tokenizer, encoded[split], args.batch_size) for split in SPLITS}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **scores)
    return scores


def run_scores(
    path: str, truth: dict[str, np.ndarray], names: list[str], args: argparse.Namespace
) -> dict[str, np.ndarray]:
    """A run's validation and test scores (an `.npz`, or a model folder scored by `model_scores`), each checked to
    have `truth`'s shape (examples, labels)."""
    scores = dict(np.load(path)) if path.endswith(".npz") else model_scores(path, names, args)
    for split in SPLITS:
        shape = scores[split].shape if split in scores else "missing"
        if shape != truth[split].shape:
            raise ValueError(f"{path}: {split} scores {shape}, the data needs {truth[split].shape} (examples, labels).")
    return scores


def predictions(scores: dict[str, np.ndarray], truth: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Test predictions of one run at thresholds tuned on validation: `per_label` and `global`, each of shape
    (examples, labels), as bool."""
    threshold, label_thresholds, _ = tune_shipped_thresholds(scores["validation"], truth["validation"])
    return {"per_label": scores["test"] >= np.asarray(label_thresholds), "global": scores["test"] >= threshold}


def weighted_metrics(predicted: dict[str, np.ndarray], truth: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """`METRICS` of one run with test example i counted weights[b, i] times, for every resample b.

    Args:
        predicted: `predictions`' bool arrays, each (examples, labels).
        truth: the test label matrix (examples, labels), bool.
        weights: (resamples, examples) counts; a row of ones is the test split itself.
    Returns: each metric of shape (resamples,).
    """
    per_label = [weights @ c.astype(float) for c in outcome_indicators(predicted["per_label"], truth)]
    micro = [weights @ c.sum(axis=1).astype(float) for c in outcome_indicators(predicted["global"], truth)]
    exact = (predicted["global"] == truth).all(axis=1).astype(float)
    return {
        "macro_f1": f1_from_counts(*per_label).mean(axis=1),
        "micro_f1": f1_from_counts(*micro),
        "subset_accuracy": weights @ exact / weights.sum(axis=1),
    }


def label_table(runs: dict[str, list[dict]], truth: dict[str, np.ndarray], names: list[str]) -> list[dict]:
    """Per label: validation and test positives, and per row its mean over runs of test F1 and average precision
    (None where the test split has no positive); `delta_f1` is the first row's F1 minus the second's."""
    first, second = runs
    stats = {row: _label_stats(members, truth["test"]) for row, members in runs.items()}
    table = []
    for j, name in enumerate(names):
        entry = {"label": name, "validation_positives": int(truth["validation"][:, j].sum())}
        entry["test_positives"] = int(truth["test"][:, j].sum())
        for row in runs:
            entry[f"{row}_f1"], entry[f"{row}_ap"] = float(stats[row][0][j]), _none_if_nan(stats[row][1][j])
        entry["delta_f1"] = entry[f"{first}_f1"] - entry[f"{second}_f1"]
        table.append(entry)
    return table


def _label_stats(members: list[dict], truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over runs of per-label test F1 (per-label thresholds) and average precision, each (labels,)."""
    f1 = np.mean([f1_from_counts(*label_counts(m["predicted"]["per_label"], truth)) for m in members], axis=0)
    ap = np.mean([average_precisions(m["scores"]["test"], truth) for m in members], axis=0)
    return f1, ap


def average_precisions(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-label average precision of `scores` (examples, labels); NaN for a label without positives."""
    return np.array(
        [
            average_precision_score(truth[:, j], scores[:, j]) if truth[:, j].any() else np.nan
            for j in range(len(truth.T))
        ]
    )


def _none_if_nan(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def bootstrap(runs: dict[str, list[dict]], truth: np.ndarray, resamples: int, seed: int) -> list[dict]:
    """Per metric: both rows' means over runs on the test split, the first minus the second (`delta`), its 95%
    percentile interval over paired bootstrap resamples of the test examples and the share of resamples above 0."""
    n = len(truth)
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1 / n), size=resamples).astype(float)
    observed = {row: _row_means(members, truth, np.ones((1, n))) for row, members in runs.items()}
    resampled = {row: _row_means(members, truth, weights) for row, members in runs.items()}
    first, second = runs
    result = []
    for metric in METRICS:
        gaps = resampled[first][metric] - resampled[second][metric]
        entry = {"metric": metric, first: float(observed[first][metric][0]), second: float(observed[second][metric][0])}
        entry["delta"] = entry[first] - entry[second]
        entry["low"], entry["high"] = (float(v) for v in np.percentile(gaps, [2.5, 97.5]))
        entry["share_above_0"] = float(np.mean(gaps > 0))
        result.append(entry)
    return result


def _row_means(members: list[dict], truth: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """`weighted_metrics` averaged over a row's runs, each of shape (resamples,)."""
    per_run = [weighted_metrics(m["predicted"], truth, weights) for m in members]
    return {metric: np.mean([r[metric] for r in per_run], axis=0) for metric in METRICS}


def load_runs(args: argparse.Namespace, truth: dict[str, np.ndarray], names: list[str]) -> dict[str, list[dict]]:
    """Every run's scores and test predictions, grouped by row in `args.rows` order."""
    runs: dict[str, list[dict]] = {row: [] for row in args.rows}
    for run in args.runs:
        row, path = run.split("=", 1)
        scores = run_scores(path, truth, names, args)
        runs[row].append({"path": path, "scores": scores, "predicted": predictions(scores, truth)})
    return runs


def without_largest(labels: list[dict]) -> dict:
    """The label with the largest absolute F1 difference and the macro-F1 difference over the other labels (the
    mean of per-label differences: macro-F1 and the mean over runs commute)."""
    largest = max(labels, key=lambda e: abs(e["delta_f1"]))
    others = [e["delta_f1"] for e in labels if e is not largest]
    return {
        "label": largest["label"],
        "delta_f1": largest["delta_f1"],
        "delta_macro_f1_without": float(np.mean(others)),
    }


def markdown(gaps: list[dict], labels: list[dict], rows: list[str], runs: dict[str, list[dict]]) -> str:
    first, second = rows
    counts = ", ".join(f"{row} {len(members)}" for row, members in runs.items())
    lines = [f"Runs: {counts}. Test split, thresholds tuned on validation; {first} minus {second}.", ""]
    lines += [*gap_lines(gaps, rows), ""]
    macro_ap = {row: np.mean([e[f"{row}_ap"] for e in labels if e[f"{row}_ap"] is not None]) for row in rows}
    largest = without_largest(labels)
    lines.append(
        f"Mean per-label average precision (threshold-free): {first} {macro_ap[first]:.4f}, {second} "
        f"{macro_ap[second]:.4f}. Largest single label: {largest['label']} ({largest['delta_f1']:+.3f} F1); "
        f"macro-F1 difference over the other labels {largest['delta_macro_f1_without']:+.4f}."
    )
    return "\n".join([*lines, "", *label_lines(labels, rows)])


def gap_lines(gaps: list[dict], rows: list[str]) -> list[str]:
    first, second = rows
    lines = [f"| metric | {first} | {second} | difference | 95% bootstrap interval | resamples above 0 |"]
    lines.append("|---|---|---|---|---|---|")
    for g in gaps:
        interval = f"[{g['low']:+.4f}, {g['high']:+.4f}]"
        cells = f"{g[first]:.4f} | {g[second]:.4f} | {g['delta']:+.4f} | {interval} | {g['share_above_0']:.3f}"
        lines.append(f"| {g['metric']} | {cells} |")
    return lines


def label_lines(labels: list[dict], rows: list[str]) -> list[str]:
    first, second = rows
    lines = [
        f"| label | validation positives | test positives | {first} F1 | {second} F1 | F1 difference | "
        f"{first} AP | {second} AP |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in sorted(labels, key=lambda e: e["delta_f1"]):
        ap = " | ".join("n/a" if e[f"{row}_ap"] is None else f"{e[f'{row}_ap']:.3f}" for row in rows)
        f1 = f"{e[f'{first}_f1']:.3f} | {e[f'{second}_f1']:.3f} | {e['delta_f1']:+.3f}"
        lines.append(f"| {e['label']} | {e['validation_positives']} | {e['test_positives']} | {f1} | {ap} |")
    return lines


def plot(labels: list[dict], rows: list[str], path: Path) -> None:
    ordered = sorted(labels, key=lambda e: e["delta_f1"])
    figure, axis = new_figure(size=(8, 4))
    axis.bar(range(len(ordered)), [e["delta_f1"] for e in ordered], label="test F1 difference")
    ticks = [f"{e['label']} ({e['test_positives']})" for e in ordered]
    axis.set_xticks(range(len(ordered)), ticks, rotation=90, fontsize=6)
    axis.set(ylabel=f"test F1, {rows[0]} minus {rows[1]}", title="per label (test positives)")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    truth, names = references(args.data_dir)
    runs = load_runs(args, truth, names)
    gaps = bootstrap(runs, truth["test"].astype(bool), args.resamples, args.seed)
    labels = label_table(runs, truth, names)
    text = markdown(gaps, labels, args.rows, runs)
    print(text)
    per_run = [{"method": row, "seed": m["path"]} for row, members in runs.items() for m in members]
    rows = [*gaps, without_largest(labels), *labels, *per_run]
    write_report(args.output, "benchmarks.per_label", argv, rows, text, lambda _, p: plot(labels, args.rows, p))


if __name__ == "__main__":
    main()
