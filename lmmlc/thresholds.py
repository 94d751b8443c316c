"""Tuning decision thresholds on held-out probabilities."""

from __future__ import annotations

import numpy as np

from .metrics import f1_from_counts, label_counts, macro_f1

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


SHRINKAGE_STRENGTHS = (0.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)
"""Candidate strengths k of `shrink_thresholds` ("auto" chooses among them): 0 keeps every label's own threshold; a
label with k validation positives lands halfway between its own threshold and the global one."""

CV_FOLDS = 5
"""Folds of `cross_validated_macro_f1` within validation; "auto" needs at least this many validation examples."""


def shrink_thresholds(
    label_thresholds: list[float], global_threshold: float, positives: np.ndarray, strength: float
) -> list[float]:
    """Each label's threshold pulled toward the global one by how few positives tuned it: (n t + k g) / (n + k),
    with n the label's validation positives, t its own threshold, g the global one and k = `strength` >= 0."""
    if strength < 0:
        raise ValueError(f"The shrinkage strength must be >= 0, got {strength}.")
    own, count = np.asarray(label_thresholds, dtype=float), np.asarray(positives, dtype=float)
    if strength == 0:
        return own.tolist()
    return ((count * own + strength * global_threshold) / (count + strength)).tolist()


def _tuned(
    probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray, min_positives: int = MIN_POSITIVES
) -> tuple[float, list[float], np.ndarray]:
    """The global threshold, every label's own one (the global one below `min_positives`) and the positives."""
    overall = tune_global_threshold(probabilities, references, grid)
    own = tune_label_thresholds(probabilities, references, grid, fallback=overall, min_positives=min_positives)
    return overall, own, np.asarray(references).sum(axis=0)


def tune_shrunk_thresholds(
    probabilities: np.ndarray, references: np.ndarray, strength: float, grid: np.ndarray = GRID
) -> tuple[float, list[float]]:
    """The global threshold (`tune_global_threshold`) and the per-label ones (`tune_label_thresholds`, the global
    one below `MIN_POSITIVES`) shrunk toward it by `strength` (`shrink_thresholds`)."""
    overall, own, positives = _tuned(probabilities, references, grid)
    return overall, shrink_thresholds(own, overall, positives, strength)


def cross_validated_macro_f1(
    probabilities: np.ndarray,
    references: np.ndarray,
    strengths: tuple[float, ...] = SHRINKAGE_STRENGTHS,
    folds: int = CV_FOLDS,
    seed: int = 0,
    grid: np.ndarray = GRID,
) -> dict[float, float]:
    """Per strength, the macro-F1 of out-of-fold decisions: the examples split at random into `folds` parts, each
    decided at thresholds tuned on the other parts only (`tune_shrunk_thresholds`). The other parts hold a share
    (folds - 1) / folds of each label's positives, so the strength and `MIN_POSITIVES` are scaled by it: a label
    is pulled as far as tuning on all the examples at that strength would pull it."""
    probabilities, references = np.asarray(probabilities), np.asarray(references)
    if folds < 2 or len(references) < folds:
        raise ValueError(f"Cross-validation needs 2 <= folds <= examples, got {folds} folds of {len(references)}.")
    share = (folds - 1) / folds
    parts = np.array_split(np.random.default_rng(seed).permutation(len(references)), folds)
    decided = {strength: np.zeros(references.shape, dtype=bool) for strength in strengths}
    for held in parts:
        rest = np.setdiff1d(np.arange(len(references)), held)
        overall, own, positives = _tuned(probabilities[rest], references[rest], grid, round(MIN_POSITIVES * share))
        for strength in strengths:
            thresholds = np.asarray(shrink_thresholds(own, overall, positives, strength * share))
            decided[strength][held] = probabilities[held] >= thresholds
    return {strength: macro_f1(chosen, references) for strength, chosen in decided.items()}


def choose_shrinkage(scores: dict[float, float]) -> float:
    """The strength with the best cross-validated macro-F1 (`cross_validated_macro_f1`; ties: the weakest)."""
    best = max(scores.values())
    return min(strength for strength, value in scores.items() if np.isclose(value, best))


def parse_shrinkage(value: str | float) -> float | str:
    """`--threshold_shrinkage` as a strength >= 0 or "auto"; anything else is refused with the accepted forms."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        strength = float(value)
    except (TypeError, ValueError):
        strength = float("nan")
    if not (strength >= 0 and np.isfinite(strength)):
        raise ValueError(f"--threshold_shrinkage {value!r}: give a strength >= 0 (0: none) or auto.")
    return strength + 0.0  # -0.0 -> 0.0


def resolve_shrinkage(
    shrinkage: str | float, probabilities: np.ndarray, references: np.ndarray, grid: np.ndarray = GRID
) -> float:
    """The strength `shrinkage` names: a number as given; "auto" the cross-validated choice among
    `SHRINKAGE_STRENGTHS` on these validation scores (`choose_shrinkage`), or 0 with fewer than `CV_FOLDS` examples."""
    shrinkage = parse_shrinkage(shrinkage)
    if shrinkage != "auto":
        return shrinkage
    if len(references) < CV_FOLDS:
        return 0.0
    return choose_shrinkage(cross_validated_macro_f1(probabilities, references, grid=grid))
