"""Tuning decision thresholds on held-out probabilities."""

from __future__ import annotations

import numpy as np

from .metrics import f1_from_counts, label_counts

GRID = np.round(np.arange(0.02, 0.99, 0.01), 2)
"""Candidate thresholds; 0.5 is among them, so tuning never does worse than 0.5 on its own data."""


def _grid_counts(probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-label counts at every candidate threshold, each of shape (grid, labels)."""
    predicted = np.asarray(probabilities)[None, :, :] >= grid[:, None, None]
    return label_counts(predicted, np.asarray(references)[None, :, :])


def tune_global_threshold(probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray = GRID) -> float:
    """The single threshold with the best micro-F1 (ties: the one closest to 0.5)."""
    tp, fp, fn = _grid_counts(probabilities, references, grid)
    return _best(grid, f1_from_counts(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1)))


MIN_POSITIVES = 5
"""Fewest validation positives a label needs for a threshold of its own (see `tune_label_thresholds`)."""


def tune_label_thresholds(
    probabilities: np.ndarray,
    references: np.ndarray,
    grid: np.ndarray = GRID,
    fallback: float | None = None,
    min_positives: int = MIN_POSITIVES,
) -> list[float]:
    """Per label, the threshold with the best F1 of that label, which maximises macro-F1 (ties: closest to 0.5).

    Args:
        fallback: the threshold of labels with fewer than `min_positives` positives in `references`. With one
            or two positives the best validation F1 sits at whatever low threshold catches them, which then
            fires on most test texts (seen with hundreds of rare tags); with none, F1 is 0 at every threshold.
            None: tune every label (ties at 0.5).
    """
    f1 = f1_from_counts(*_grid_counts(probabilities, references, grid))
    present = np.asarray(references).sum(axis=0) >= min_positives
    return [
        _best(grid, f1[:, label]) if present[label] or fallback is None else float(fallback)
        for label in range(f1.shape[1])
    ]


def _best(grid: np.ndarray, scores: np.ndarray) -> float:
    top = np.flatnonzero(np.isclose(scores, scores.max()))
    return float(grid[top[np.argmin(np.abs(grid[top] - 0.5))]])


def tune_thresholds_pair(
    probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray = GRID, min_positives: float = MIN_POSITIVES
) -> tuple[float, list[float]]:
    """The global threshold (`tune_global_threshold`) and every label's own (`tune_label_thresholds`, the global one
    for a label with fewer than `min_positives` positives; `inf`: the global one for every label)."""
    overall = tune_global_threshold(probabilities, references, grid)
    own = tune_label_thresholds(probabilities, references, grid, fallback=overall, min_positives=min_positives)
    return overall, own


MIN_POSITIVES_CANDIDATES = (MIN_POSITIVES, 10, 20, 50, 100, float("inf"))
"""Fallback counts `cross_fitted_scores` compares: 5 (a threshold of its own from 5 validation positives) up to
`inf` (every label at the global threshold)."""
CV_FOLDS = 5
"""Folds of `cross_fitted_scores` within validation."""


def cross_fitted_scores(
    probabilities: np.ndarray,
    references: np.ndarray,
    candidates: tuple[float, ...] = MIN_POSITIVES_CANDIDATES,
    folds: int = CV_FOLDS,
    seed: int = 0,
    grid: np.ndarray = GRID,
) -> dict[float, tuple[float, float]]:
    """Per fallback count, (micro-F1, macro-F1) of out-of-fold decisions: the examples split at random into `folds`
    parts, each decided at thresholds tuned on the other parts (`tune_thresholds_pair`). The other parts hold a share
    (folds - 1) / folds of each label's positives, so each count is scaled by it."""
    probabilities, references = np.asarray(probabilities), np.asarray(references)
    if folds < 2 or len(references) < folds:
        raise ValueError(f"Cross-fitting needs 2 <= folds <= examples, got {folds} folds of {len(references)}.")
    share = (folds - 1) / folds
    decided = {count: np.zeros(references.shape, dtype=bool) for count in candidates}
    for held in np.array_split(np.random.default_rng(seed).permutation(len(references)), folds):
        rest = np.setdiff1d(np.arange(len(references)), held)
        overall = tune_global_threshold(probabilities[rest], references[rest], grid)
        own = np.asarray(tune_label_thresholds(probabilities[rest], references[rest], grid))
        positives = references[rest].sum(axis=0)
        for count in candidates:
            thresholds = np.where(positives >= count * share, own, overall)
            decided[count][held] = probabilities[held] >= thresholds
    scores = {}
    for count, predicted in decided.items():
        tp, fp, fn = label_counts(predicted, references)
        scores[count] = (float(f1_from_counts(tp.sum(), fp.sum(), fn.sum())), float(f1_from_counts(tp, fp, fn).mean()))
    return scores


def choose_min_positives(scores: dict[float, tuple[float, float]]) -> float:
    """The fallback count with the best mean of cross-fitted micro- and macro-F1 (`cross_fitted_scores`; ties: the
    smallest, most labels with thresholds of their own)."""
    objective = {count: (micro + macro) / 2 for count, (micro, macro) in scores.items()}
    best = max(objective.values())
    return min(count for count, value in objective.items() if np.isclose(value, best))


def tune_shipped_thresholds(
    probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray = GRID
) -> tuple[float, list[float], int]:
    """The thresholds `lmmlc-train` ships (docs/experiments/NOTEBOOK.md 5k): the global one and one per label, a label
    with fewer validation positives than the fallback count taking the global one, the count chosen for this model
    by `cross_fitted_scores` and `choose_min_positives` (`MIN_POSITIVES` with fewer than `CV_FOLDS` examples: too few
    to cross-fit). Returns them and how many labels have a threshold of their own."""
    references = np.asarray(references)
    count = MIN_POSITIVES
    if len(references) >= CV_FOLDS:
        count = choose_min_positives(cross_fitted_scores(probabilities, references, grid=grid))
    overall, own = tune_thresholds_pair(probabilities, references, grid, count)
    return overall, own, int((references.sum(axis=0) >= count).sum())
