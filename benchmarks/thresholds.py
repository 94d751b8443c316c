"""Per-label thresholds shrunk toward the global one: every trained row's validation and test scores, thresholds
tuned on validation at each shrinkage strength, the strength chosen by cross-validation within validation.

    python -m benchmarks.anchors --data_dir ../shared/data/goemotions --anchor linear --scores_file outputs/linear.npz
    python -m benchmarks.thresholds --runs lmmlc=outputs/seed-42/lmmlc-pooled-head anchor-linear=outputs/linear.npz \\
        --data_dir ../shared/data/goemotions --output docs/benchmarks/thresholds/goemotions-cpu-full

A run is `ROW=PATH`: a trained model folder (scored here through `predict_dataset`, the one prediction path; the
scores cached under `--work_dir`) or an `.npz` of `validation` and `test` scores (`benchmarks.anchors
--scores_file`); runs of one ROW are its seeds (mean ± sd). Per run and strength k (`lmmlc.thresholds`):
`cv_macro_f1@k`, the out-of-fold macro-F1 within validation (`cross_validated_macro_f1`), and
`test_macro_f1@k`, test macro-F1 at thresholds tuned on all of validation and shrunk by k; `auto` is each
run's own cross-validated choice (`choose_shrinkage`). The table's chosen k is the one with the best mean
cross-validated macro-F1 over every run (ties: the weaker), chosen from validation alone; its gain over no
shrinkage is printed with the runs' spread (a default other than 0 needs the mean gain above the sd). Writes
`output`.{json,md,png}.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from benchmarks.anchors import label_matrix, load_splits
from benchmarks.reporting import save_figure, write_report
from benchmarks.run_quality import cell, mean_over_seeds
from lmmlc.arguments import DataArguments
from lmmlc.configuration_lmmlc import label_names_of
from lmmlc.data import load_data
from lmmlc.evaluation import load_trained, predict_dataset
from lmmlc.metrics import macro_f1
from lmmlc.thresholds import (
    CV_FOLDS,
    SHRINKAGE_STRENGTHS,
    choose_shrinkage,
    cross_validated_macro_f1,
    tune_shrunk_thresholds,
)
from lmmlc.tokenization import encode_splits

SPLITS = ("validation", "test")


def run_parser(description: str) -> argparse.ArgumentParser:
    """A parser with `--runs` (ROW=PATH) and what scoring a model folder needs (data, length, batch, cache)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", nargs="+", required=True, help="ROW=PATH: a trained model folder or a scores .npz.")
    parser.add_argument("--data_dir", default="../shared/data/goemotions")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--work_dir", default="outputs/thresholds", help="Where model scores are cached.")
    return parser


def check_runs(parser: argparse.ArgumentParser, runs: list[str]) -> None:
    """Refuse a run that is not ROW=PATH with an existing path."""
    for run in runs:
        row, _, path = run.partition("=")
        if not row or not path or not Path(path).exists():
            parser.error(f"--runs takes ROW=PATH with an existing model folder or .npz, got {run!r}.")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = run_parser(__doc__.splitlines()[0])
    parser.add_argument("--strengths", nargs="+", type=float, default=list(SHRINKAGE_STRENGTHS))
    parser.add_argument("--folds", type=int, default=CV_FOLDS, help="Cross-validation folds within validation.")
    parser.add_argument("--output", default="docs/benchmarks/thresholds/report")
    args = parser.parse_args(argv)
    strengths = sorted({k + 0.0 for k in args.strengths})  # -0 -> 0, duplicates once
    if any(not (k >= 0 and np.isfinite(k)) for k in strengths) or 0.0 not in strengths:
        parser.error(f"--strengths must be finite numbers >= 0 and include 0 (no shrinkage), got {args.strengths}.")
    if len({f"{k:g}" for k in strengths}) < len(strengths):
        parser.error(f"--strengths {args.strengths}: two values print alike ({{k:g}}); give distinct ones.")
    args.strengths = strengths
    check_runs(parser, args.runs)
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


def run_row(row: str, path: str, truth: dict[str, np.ndarray], names: list[str], args: argparse.Namespace) -> dict:
    """Cross-validated and test macro-F1 of one run at every strength, and at its own choice (`auto`)."""
    scores = run_scores(path, truth, names, args)
    cv = cross_validated_macro_f1(scores["validation"], truth["validation"], tuple(args.strengths), args.folds)
    result = {"dataset": Path(args.data_dir).name, "method": row, "decoding": "one_shot", "seed": path}
    for strength in args.strengths:
        result[f"cv_macro_f1@{strength:g}"] = cv[strength]
        result[f"test_macro_f1@{strength:g}"] = test_macro_f1(scores, truth, strength)
    auto = choose_shrinkage(cv)
    result.update({"auto_strength": auto, "cv_macro_f1@auto": cv[auto]})
    result["test_macro_f1@auto"] = result[f"test_macro_f1@{auto:g}"]
    return result


def test_macro_f1(scores: dict[str, np.ndarray], truth: dict[str, np.ndarray], strength: float) -> float:
    """Test macro-F1 at thresholds tuned on all of validation, shrunk by `strength`."""
    _, thresholds = tune_shrunk_thresholds(scores["validation"], truth["validation"], strength)
    return macro_f1(scores["test"] >= np.asarray(thresholds), truth["test"])


def chosen_strength(rows: list[dict], strengths: list[float]) -> float:
    """The strength with the best mean cross-validated macro-F1 over every run (ties: the weaker)."""
    return choose_shrinkage({k: float(np.mean([row[f"cv_macro_f1@{k:g}"] for row in rows])) for k in strengths})


def gain_over_none(rows: list[dict], chosen: float) -> tuple[float, float]:
    """Mean and sd (ddof 1; 0 for one run) over runs of the chosen strength's cross-validated macro-F1 minus no
    shrinkage's: a default other than 0 needs the mean to exceed the sd."""
    gains = [row[f"cv_macro_f1@{chosen:g}"] - row["cv_macro_f1@0"] for row in rows]
    return float(np.mean(gains)), float(np.std(gains, ddof=1)) if len(gains) > 1 else 0.0


def table(summary: list[dict], strengths: list[float], chosen: float) -> str:
    keys = [f"{split}_macro_f1@{k:g}" for split in ("cv", "test") for k in dict.fromkeys((0.0, chosen))]
    keys.append("test_macro_f1@auto")
    lines = ["| row | runs | " + " | ".join(keys) + " | auto strengths |", "|---" * (len(keys) + 3) + "|"]
    for row in summary:
        cells = " | ".join(cell(row, key) for key in keys)
        lines.append(f"| {row['method']} | {len(row['seeds'])} | {cells} | {row['auto_strengths']} |")
    sweep = ["| strength | " + " | ".join(row["method"] for row in summary) + " |", "|---" * (len(summary) + 1) + "|"]
    for k in strengths:
        mark = " (chosen)" if k == chosen else ""
        cells = " | ".join(
            f"{cell(row, f'cv_macro_f1@{k:g}')} / {cell(row, f'test_macro_f1@{k:g}')}" for row in summary
        )
        sweep.append(f"| {k:g}{mark} | {cells} |")
    return "\n".join([*lines, "", "Cross-validated (within validation) / test macro-F1 per strength:", "", *sweep])


def plot(summary: list[dict], strengths: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for row in summary:
        for split, style in (("cv", "--"), ("test", "-")):
            values = [row[f"{split}_macro_f1@{k:g}"] for k in strengths]
            axis.plot(range(len(strengths)), values, style, marker="o", label=f"{row['method']} ({split})")
    axis.set_xticks(range(len(strengths)), [f"{k:g}" for k in strengths])
    axis.set(xlabel="shrinkage strength k", ylabel="macro-F1 (mean over runs)", title="per-label thresholds shrunk")
    save_figure(figure, axis, path)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    truth, names = references(args.data_dir)
    rows = [run_row(*run.split("=", 1), truth, names, args) for run in args.runs]
    chosen = chosen_strength(rows, args.strengths)
    summary = mean_over_seeds(rows)
    for row in summary:
        row["auto_strengths"] = [r["auto_strength"] for r in rows if r["method"] == row["method"]]
        row["chosen_strength"] = chosen
    gain, spread = gain_over_none(rows, chosen)
    verdict = "beyond" if gain > spread else "within"
    text = table(summary, args.strengths, chosen)
    text += f"\n\nChosen strength {chosen:g}: cross-validated macro-F1 {gain:+.4f} ± {spread:.4f} over no shrinkage "
    text += f"({len(rows)} runs), {verdict} the runs' spread."
    print(text)
    write_report(
        args.output,
        "benchmarks.thresholds",
        argv,
        [*summary, *rows],
        text,
        lambda _, p: plot(summary, args.strengths, p),
    )


if __name__ == "__main__":
    main()
