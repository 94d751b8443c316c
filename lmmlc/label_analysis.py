"""`lmmlc-analyze-labels`: how labels co-occur in a dataset, and whether label correlation is likely to matter.

Label frequencies, labels per example, co-occurrence counts, the phi correlation matrix (Pearson on
0/1) with the seed paper's strength bands, the strongest pairs, PNG plots, and a one-line verdict.
With `--model_path`, also per-label F1 bars of a trained model on the test split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from transformers import HfArgumentParser

from .arguments import DataArguments
from .data import load_data
from .metrics import f1_from_counts, label_counts

BANDS = ((0.8, "very strong"), (0.6, "strong"), (0.4, "moderate"), (0.2, "weak"), (0.0, "very weak or none"))
"""Lower bounds of |phi| for each strength band (the seed paper's)."""
MIN_SUPPORT = 5
"""Fewest occurrences of each label of a pair for its correlation to be judged."""
TOO_RARE = "not judged (a label seen < min_support times)"


def label_matrix(label_lists: list[list[str]], names: list[str]) -> np.ndarray:
    """Multi-hot `(examples, labels)` int matrix of name lists."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(label_lists), len(names)), dtype=np.int64)
    for row, labels in enumerate(label_lists):
        matrix[row, [index[name] for name in labels]] = 1
    return matrix


def phi_matrix(matrix: np.ndarray) -> np.ndarray:
    """Phi coefficient (Pearson correlation of 0/1 columns) of every label pair; 0 where a label never varies."""
    x = matrix.astype(np.float64)
    centred = x - x.mean(axis=0)
    spread = np.sqrt((centred**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = (centred.T @ centred) / np.outer(spread, spread)
    return np.nan_to_num(phi, nan=0.0, posinf=0.0, neginf=0.0)


def band(value: float) -> str:
    """Strength band of a correlation's absolute value."""
    return next(name for low, name in BANDS if abs(value) >= low)


def strongest_pairs(phi: np.ndarray, names: list[str], top: int, judged: np.ndarray) -> list[dict[str, Any]]:
    """The `top` judged label pairs by |phi|, with their band."""
    rows, cols = np.triu_indices(len(names), k=1)
    keep = judged[rows, cols]
    rows, cols = rows[keep], cols[keep]
    order = np.argsort(-np.abs(phi[rows, cols]), kind="stable")[:top]
    return [
        {
            "a": names[rows[i]],
            "b": names[cols[i]],
            "phi": float(phi[rows[i], cols[i]]),
            "band": band(phi[rows[i], cols[i]]),
        }
        for i in order
    ]


def judged_pairs(matrix: np.ndarray, min_support: int) -> np.ndarray:
    """`(labels, labels)` bool: pairs whose labels each occur at least `min_support` times. A phi from fewer
    examples is noise (two labels seen once, together, have phi 1), so it gets no band."""
    frequent = matrix.sum(axis=0) >= min_support
    return np.outer(frequent, frequent)


def verdict(phi: np.ndarray, judged: np.ndarray, min_support: int) -> str:
    """One line: is label correlation likely to matter for decoding in rounds?"""
    upper = np.triu_indices(len(phi), k=1)
    values = np.abs(phi[upper][judged[upper]])
    if not values.size:
        return f"No label pair has {min_support}+ examples of each label: too little data to judge correlation."
    strong, moderate = int((values >= 0.6).sum()), int((values >= 0.4).sum())
    if strong:
        return f"{strong} label pair(s) correlate strongly (|phi| >= 0.6): label correlation is likely to matter."
    if moderate:
        return f"{moderate} label pair(s) correlate moderately (|phi| >= 0.4): label correlation may matter somewhat."
    return f"No pair reaches |phi| 0.4 (max {values.max():.2f}): labels are nearly independent; expect little from it."


def analyze(matrix: np.ndarray, names: list[str], top: int = 10, min_support: int = MIN_SUPPORT) -> dict[str, Any]:
    """Every statistic of the report, JSON-ready; pairs with a label seen fewer than `min_support` times are
    counted as too rare, never banded."""
    phi = phi_matrix(matrix)
    judged = judged_pairs(matrix, min_support)
    per_example = matrix.sum(axis=1)
    bands = {name: 0 for _, name in BANDS} | {TOO_RARE: 0}
    for i, j in zip(*np.triu_indices(len(names), k=1), strict=True):
        bands[band(phi[i, j]) if judged[i, j] else TOO_RARE] += 1
    return {
        "examples": len(matrix),
        "label_frequency": {name: int(n) for name, n in zip(names, matrix.sum(axis=0), strict=True)},
        "labels_per_example": {"mean": float(per_example.mean()), "counts": np.bincount(per_example).tolist()},
        "cooccurrence": (matrix.T @ matrix).tolist(),
        "phi": phi.tolist(),
        "min_support": min_support,
        "pairs_per_band": bands,
        "strongest_pairs": strongest_pairs(phi, names, top, judged),
        "verdict": verdict(phi, judged, min_support),
    }


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_heatmap(phi: np.ndarray, names: list[str], path: Path) -> None:
    plt = _pyplot()
    size = max(5.0, 0.28 * len(names))
    figure, axis = plt.subplots(figsize=(size + 1.5, size))
    image = axis.imshow(phi, cmap="RdBu_r", vmin=-1, vmax=1)
    axis.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    axis.set_yticks(range(len(names)), names, fontsize=7)
    axis.set_title("Label correlation (phi)")
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_bars(values: dict[str, float], title: str, path: Path) -> None:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(max(6.0, 0.3 * len(values)), 4))
    axis.bar(range(len(values)), list(values.values()))
    axis.set_xticks(range(len(values)), list(values), rotation=90, fontsize=7)
    axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def per_label_f1(model_path: str, data_args: DataArguments) -> dict[str, float]:
    """F1 of each label on the test split, at the model's own thresholds."""
    from .configuration_lmmlc import label_names_of, resolve_thresholds
    from .evaluation import load_trained, predict_dataset
    from .metrics import binarize
    from .tokenization import encode_splits

    model, tokenizer = load_trained(model_path)
    names = label_names_of(model.config)
    data = load_data(data_args, names, need_train=False)
    test = encode_splits(data, tokenizer, model.config, data_args, ("test",))["test"]
    probs = predict_dataset(model, tokenizer, test)
    predicted = binarize(probs, np.asarray(resolve_thresholds(model.config)))
    f1 = f1_from_counts(*label_counts(predicted, np.asarray(test["labels"])))
    return {name: float(v) for name, v in zip(names, f1, strict=True)}


@dataclass
class AnalyzeArguments:
    output_dir: str = field(default="label_analysis", metadata={"help": "Where the JSON and PNG files go."})
    split: str = field(default="train", metadata={"help": "Which split to analyse."})
    top_pairs: int = field(default=10, metadata={"help": "How many strongest pairs to list."})
    min_support: int = field(
        default=MIN_SUPPORT, metadata={"help": "Judge a pair's correlation only when each label occurs this often."}
    )
    model_path: str | None = field(default=None, metadata={"help": "A trained model: adds per-label test F1 bars."})


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Analyse a split's labels (and a model's per-label F1); returns the report."""
    args, data_args = HfArgumentParser((AnalyzeArguments, DataArguments)).parse_args_into_dataclasses(argv)
    if args.min_support < 1:
        raise ValueError(f"--min_support {args.min_support}: give at least 1 (occurrences of each label of a pair).")
    data = load_data(data_args, need_train=args.split == "train")
    if args.split not in data.splits:
        raise ValueError(f"--split {args.split!r} not in the data (it has {sorted(data.splits)}).")
    matrix = label_matrix(data.splits[args.split]["labels"], data.label_names)
    report = analyze(matrix, data.label_names, args.top_pairs, args.min_support)
    folder = Path(args.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    plot_heatmap(np.asarray(report["phi"]), data.label_names, folder / "label_correlation.png")
    plot_bars(report["label_frequency"], f"Label frequency ({args.split})", folder / "label_frequency.png")
    if args.model_path:
        report["test_f1_per_label"] = per_label_f1(args.model_path, data_args)
        plot_bars(report["test_f1_per_label"], "Per-label test F1", folder / "per_label_f1.png")
    (folder / "label_analysis.json").write_text(json.dumps({"names": data.label_names, **report}, indent=2))
    print(f"{report['examples']} examples, {report['labels_per_example']['mean']:.2f} labels each on average")
    for pair in report["strongest_pairs"]:
        print(f"  {pair['a']} ~ {pair['b']}: phi {pair['phi']:+.3f} ({pair['band']})")
    print(report["verdict"])
    return report


def main(argv: list[str] | None = None) -> None:
    """Console entry point (returns nothing, so the exit status stays 0)."""
    run(argv)
