"""Seeded synthetic multi-label text with planted label dependencies (the controlled test of LM-MLC).

A "group" of labels carries the planted dependency; "free" labels are independent coin flips. Every
label has its own cue word; a true label's cue appears in the text with probability `visibility`,
a false one's with `false_cue_prob`. So each label is only partly visible in its text, and the
dependency is the only other source of evidence about it.

python -m benchmarks.synthetic --dependency exclusion --n 5 --seed 0
"""

from __future__ import annotations

import argparse
import json
import random

FILLER = ["the", "a", "it", "so", "this", "thing", "about", "i"]
GROUP_NAMES = ["a", "b", "c", "d"]
FREE_NAMES = ["x", "y", "z"]
CUES = {"a": "alpha", "b": "beta", "c": "gamma", "d": "delta", "x": "xray", "y": "yankee", "z": "zulu"}
DEPENDENCIES = ("independent", "implication", "exclusion")


def vocabulary() -> list[str]:
    """Every word the generator can write (for a tiny tokenizer)."""
    return [*FILLER, *CUES.values()]


def _group_truth(rng: random.Random, dependency: str, size: int, strength: float) -> list[bool]:
    """Truth values of the group; the dependency holds with probability `strength`, else independent coins."""
    if dependency == "independent" or rng.random() >= strength:
        return [rng.random() < (1 / size if dependency == "exclusion" else 0.5) for _ in range(size)]
    if dependency == "implication":  # every group label is true exactly when the first one is
        return [rng.random() < 0.5] * size
    one = rng.randrange(size)  # exclusion: exactly one label of the group is true
    return [i == one for i in range(size)]


def synthetic_data(
    n: int,
    seed: int,
    dependency: str = "implication",
    group_size: int = 2,
    free_labels: int = 2,
    strength: float = 1.0,
    visibility: float = 0.5,
    false_cue_prob: float = 0.0,
    length: int = 6,
) -> tuple[list[dict], list[str]]:
    """`n` rows `{"text", "labels": [names]}` and the label names (group first, then free labels).

    Args:
        dependency: "implication" (every group label true exactly when the first is), "exclusion"
            (exactly one group label true) or "independent" (no dependency, the control).
        group_size: labels in the dependent group (2 to 4).
        free_labels: independent labels after the group (0 to 3).
        strength: probability that an example obeys the dependency (else its group is independent).
        visibility: probability that a true label's cue word is in the text.
        false_cue_prob: probability that a false label's cue word is in the text (misleading cues).
        length: filler words per text before the cues are inserted.
    """
    if dependency not in DEPENDENCIES:
        raise ValueError(f"dependency={dependency!r}; choose one of {DEPENDENCIES}.")
    if not (2 <= group_size <= len(GROUP_NAMES) and 0 <= free_labels <= len(FREE_NAMES)):
        raise ValueError(f"Need 2 <= group_size <= {len(GROUP_NAMES)} and 0 <= free_labels <= {len(FREE_NAMES)}.")
    for name, value in (("strength", strength), ("visibility", visibility), ("false_cue_prob", false_cue_prob)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name}={value} must lie in [0, 1].")
    rng = random.Random(seed)
    names = GROUP_NAMES[:group_size] + FREE_NAMES[:free_labels]
    rows = []
    for _ in range(n):
        truth = _group_truth(rng, dependency, group_size, strength) + [rng.random() < 0.5 for _ in range(free_labels)]
        words = [rng.choice(FILLER) for _ in range(length)]
        for name, true in zip(names, truth, strict=True):
            if rng.random() < (visibility if true else false_cue_prob):
                words.insert(rng.randrange(len(words) + 1), CUES[name])
        rows.append({"text": " ".join(words), "labels": [name for name, t in zip(names, truth, strict=True) if t]})
    return rows, names


def main() -> None:
    parser = argparse.ArgumentParser(description="Print synthetic rows as JSON Lines.")
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dependency", choices=DEPENDENCIES, default="implication")
    parser.add_argument("--visibility", type=float, default=0.5)
    args = parser.parse_args()
    rows, _ = synthetic_data(args.n, args.seed, args.dependency, visibility=args.visibility)
    print("\n".join(json.dumps(row) for row in rows))


if __name__ == "__main__":
    main()
