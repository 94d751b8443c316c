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
    probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray = GRID
) -> tuple[float, list[float]]:
    """The global threshold (`tune_global_threshold`) and every label's own (`tune_label_thresholds`, the global one
    for a label with fewer than `MIN_POSITIVES` positives)."""
    overall = tune_global_threshold(probabilities, references, grid)
    return overall, tune_label_thresholds(probabilities, references, grid, fallback=overall)
