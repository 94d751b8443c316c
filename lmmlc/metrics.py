"""Multi-label metrics at a threshold, ranking metrics of scores, and the path of both as an `evaluate` module.

Computed from per-label counts with NumPy: scikit-learn reads a one-column label matrix as a
binary/multiclass target, which changes what micro-F1 means; the tests check agreement with
scikit-learn on multi-column data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

METRIC_NAMES = ("subset_accuracy", "micro_f1", "macro_f1", "jaccard", "hamming_loss", "hamming_score")
LOWER_IS_BETTER = frozenset({"hamming_loss"})
"""The metrics of `multilabel_metrics` where a lower value is better; higher is better for the others."""
RANKING_KS = (1, 3, 5)
RANKING_METRIC_NAMES = tuple(f"{name}@{k}" for name in ("p", "r", "ndcg") for k in RANKING_KS)
"""The keys of `ranking_metrics` at its default cut-offs: p@1, p@3, p@5, r@1, ..., ndcg@5."""
METRIC_MODULE = str(Path(__file__).parent / "multilabel_metrics")
"""Path for `evaluate.load(METRIC_MODULE)`: the same metrics as an `evaluate` module."""


def binarize(probabilities: np.ndarray, thresholds: float | np.ndarray) -> np.ndarray:
    """0/1 predictions: probability >= threshold (one value, or one per label)."""
    probabilities = np.asarray(probabilities, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    if thresholds.ndim == 1 and thresholds.shape[0] != probabilities.shape[1]:
        raise ValueError(f"Got {thresholds.shape[0]} thresholds for {probabilities.shape[1]} labels.")
    return (probabilities >= thresholds).astype(int)


def outcome_indicators(predictions: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positive, false positive and false negative indicators (bool), each of the inputs' shape."""
    predicted, true = np.asarray(predictions).astype(bool), np.asarray(references).astype(bool)
    return predicted & true, predicted & ~true, ~predicted & true


def label_counts(predictions: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives and false negatives per label, summed over axis -2 (examples)."""
    tp, fp, fn = outcome_indicators(predictions, references)
    return tp.sum(axis=-2), fp.sum(axis=-2), fn.sum(axis=-2)


def f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 = 2tp / (2tp + fp + fn), 0 where a label has no true and no predicted example."""
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros(np.shape(tp), dtype=float), where=denominator > 0)


def macro_f1(predictions: np.ndarray, references: np.ndarray) -> float:
    """Mean per-label F1 of 0/1 (or bool) arrays of shape (examples, labels) (`multilabel_metrics`' macro_f1)."""
    return float(f1_from_counts(*label_counts(predictions, references)).mean())


def sample_jaccard(predictions: np.ndarray, references: np.ndarray) -> float:
    """Mean over examples of |true & predicted| / |true | predicted| (1 when both are empty)."""
    both = (predictions & references).sum(axis=1)
    either = (predictions | references).sum(axis=1)
    return float(np.mean(np.divide(both, either, out=np.ones(len(both)), where=either > 0)))


def multilabel_metrics(predictions: np.ndarray, references: np.ndarray) -> dict[str, float]:
    """Subset accuracy, micro/macro F1, mean per-sample Jaccard, Hamming loss and 1 - Hamming loss.

    Macro-F1 averages over every label: a label with no true and no predicted example counts as F1 = 0
    (scikit-learn's `zero_division=0`), so labels absent from the data lower it.

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


def ranking_metrics(scores: np.ndarray, references: np.ndarray, ks: tuple[int, ...] = RANKING_KS) -> dict[str, float]:
    """Precision, recall and nDCG of the top k labels ranked by score, for each k in `ks`.

    Each example's labels are ranked by decreasing score; ties keep label-index order (stable sort).
    With hits@k the number of true labels among the top k (all labels when k exceeds their number):

    - p@k: mean over all examples of hits@k / k (always divided by k);
    - r@k: mean over examples with a true label of hits@k / #true;
    - ndcg@k: mean over examples with a true label of DCG@k / IDCG@k, where a hit at rank r (1-based)
      gains 1 / log2(r + 1) and IDCG@k is the DCG of min(k, #true) hits at ranks 1, 2, ...

    When no example has a true label, r@k and ndcg@k are 0.0.

    Args:
        scores: shape (examples, labels), higher is more likely (probabilities or logits).
        references: 0/1 array of the same shape.
        ks: positive cut-offs.

    Returns:
        `{"p@k": ..., ...}` for every k, then `r@k`, then `ndcg@k` (`RANKING_METRIC_NAMES` for the default ks).
    """
    scores, references = np.asarray(scores, dtype=float), np.asarray(references).astype(bool)
    if scores.shape != references.shape or scores.ndim != 2 or scores.size == 0:
        raise ValueError(
            f"scores {scores.shape} and references {references.shape} must be equal, non-empty 2-D shapes."
        )
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive cut-offs, got {ks}.")
    hits, gains = _ranked_hits(scores, references, min(max(ks), scores.shape[1]))
    num_true = references.sum(axis=1)
    relevant = num_true > 0
    ideal = np.cumsum(_discounts(scores.shape[1]))
    tops = {k: min(k, scores.shape[1]) - 1 for k in ks}
    return {
        **{f"p@{k}": float(hits[:, top].mean() / k) for k, top in tops.items()},
        **{f"r@{k}": _mean(hits[relevant, top] / num_true[relevant]) for k, top in tops.items()},
        **{
            f"ndcg@{k}": _mean(gains[relevant, top] / ideal[np.minimum(k, num_true[relevant]) - 1])
            for k, top in tops.items()
        },
    }


def _ranked_hits(scores: np.ndarray, references: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative hits and DCG over the first `depth` ranks, each of shape (examples, depth)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    hits = np.take_along_axis(references, order, axis=1)
    return hits.cumsum(axis=1), (hits * _discounts(depth)).cumsum(axis=1)


def _discounts(depth: int) -> np.ndarray:
    """The DCG gain 1 / log2(rank + 1) of a hit at ranks 1..depth."""
    return 1 / np.log2(np.arange(2, depth + 2))


def _mean(values: np.ndarray) -> float:
    """The mean, 0.0 for no values."""
    return float(values.mean()) if values.size else 0.0
