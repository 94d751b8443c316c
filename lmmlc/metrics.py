"""Multi-label metrics at a threshold, and the path of the same metrics as an `evaluate` module.

Computed from per-label counts with NumPy: scikit-learn reads a one-column label matrix as a
binary/multiclass target, which changes what micro-F1 means; the tests check agreement with
scikit-learn on multi-column data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

METRIC_NAMES = ("subset_accuracy", "micro_f1", "macro_f1", "jaccard", "hamming_loss", "hamming_score")
METRIC_MODULE = str(Path(__file__).parent / "multilabel_metrics")
"""Path for `evaluate.load(METRIC_MODULE)`: the same metrics as an `evaluate` module."""


def binarize(probabilities: np.ndarray, thresholds: float | np.ndarray) -> np.ndarray:
    """0/1 predictions: probability >= threshold (one value, or one per label)."""
    probabilities = np.asarray(probabilities, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    if thresholds.ndim == 1 and thresholds.shape[0] != probabilities.shape[1]:
        raise ValueError(f"Got {thresholds.shape[0]} thresholds for {probabilities.shape[1]} labels.")
    return (probabilities >= thresholds).astype(int)


def label_counts(predictions: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives and false negatives per label, summed over axis -2 (examples)."""
    predicted, true = np.asarray(predictions).astype(bool), np.asarray(references).astype(bool)
    return (predicted & true).sum(axis=-2), (predicted & ~true).sum(axis=-2), (~predicted & true).sum(axis=-2)


def f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 = 2tp / (2tp + fp + fn), 0 where a label has no true and no predicted example."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros(np.shape(tp), dtype=float), where=denominator > 0)


def sample_jaccard(predictions: np.ndarray, references: np.ndarray) -> float:
    """Mean over examples of |true & predicted| / |true | predicted| (1 when both are empty)."""
    both = (predictions & references).sum(axis=1)
    either = (predictions | references).sum(axis=1)
    return float(np.mean(np.divide(both, either, out=np.ones(len(both)), where=either > 0)))


def multilabel_metrics(predictions: np.ndarray, references: np.ndarray) -> dict[str, float]:
    """Subset accuracy, micro/macro F1, mean per-sample Jaccard, Hamming loss and 1 - Hamming loss.

    Args:
        predictions / references: 0/1 arrays of shape (examples, labels).
    """
    predictions, references = np.asarray(predictions, dtype=int), np.asarray(references, dtype=int)
    if predictions.shape != references.shape or predictions.ndim != 2:
        raise ValueError(f"predictions {predictions.shape} and references {references.shape} must be equal 2-D shapes.")
    tp, fp, fn = label_counts(predictions, references)
    loss = float(np.mean(predictions != references))
    return {
        "subset_accuracy": float(np.mean((predictions == references).all(axis=1))),
        "micro_f1": float(f1_from_counts(tp.sum(), fp.sum(), fn.sum())),
        "macro_f1": float(f1_from_counts(tp, fp, fn).mean()),
        "jaccard": sample_jaccard(predictions, references),
        "hamming_loss": loss,
        "hamming_score": 1.0 - loss,
    }
