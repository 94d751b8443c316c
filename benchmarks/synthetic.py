"""Seeded synthetic multi-label text with a planted label dependency (the controlled test of LM-MLC)."""

from __future__ import annotations

import random

FILLER = ["the", "a", "it", "so", "this", "thing", "about", "i"]


def implication_data(
    n: int, seed: int, cue_prob: float = 0.5, false_cue_prob: float = 0.1, length: int = 6
) -> tuple[list[dict], list[str]]:
    """Labels a, b, c, d: b is true exactly when a is; c and d are independent coin flips.

    Each true label puts its own cue word ("alpha", "beta", "gamma", "delta") into the text with
    probability `cue_prob`; a false one with `false_cue_prob`. So the text holds separate, partial
    cues for a and for b, and deciding the clearer of the two settles the other.

    Returns:
        rows `{"text", "labels": [names]}` and the label names.
    """
    rng = random.Random(seed)
    names, cues = ["a", "b", "c", "d"], ["alpha", "beta", "gamma", "delta"]
    rows = []
    for _ in range(n):
        a, c, d = rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.5
        truth = [a, a, c, d]
        words = [rng.choice(FILLER) for _ in range(length)]
        for cue, true in zip(cues, truth, strict=True):
            if rng.random() < (cue_prob if true else false_cue_prob):
                words.insert(rng.randrange(len(words) + 1), cue)
        rows.append({"text": " ".join(words), "labels": [name for name, t in zip(names, truth, strict=True) if t]})
    return rows, names
