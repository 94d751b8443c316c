"""A one-line hint from `lmmlc-train` when an LM-MLC run sits where the pooled baseline measured better
(docs/experiments/NOTEBOOK.md 5i). It only informs: the model trained is the one asked for."""

from __future__ import annotations

from typing import Any

from .configuration_lmmlc import LabelMaskConfig

SMALL_TRAIN_SET = 12_000
"""Training examples up to which, with one label group, the baseline measured ahead on subset accuracy."""
ONE_GROUP_HINT = (
    "Hint: with at most one label group and a small training set, the pooled baseline (--model_type baseline) "
    "measured ahead of LM-MLC on subset accuracy (aapd-small, 800 texts: 0.243 vs 0.213 at the global threshold; "
    "GoEmotions, 12,000 comments: 0.416 vs 0.376) and trains about 2x faster; LM-MLC led on micro-, macro-F1 and "
    "P@1 on aapd-small (docs/experiments/NOTEBOOK.md 5i, 0b)."
)
MANY_LABELS_HINT = (
    "Hint: past one label group LM-MLC measured level with or ahead of the pooled baseline on micro-F1, macro-F1 and "
    "P@1, but trained at {speed} of its examples/s (docs/experiments/NOTEBOOK.md 5i): --label_sample_size 16 "
    "--label_negatives mixed trains at 0.55-0.62x and measured above the baseline, below this default (5q); "
    "--model_type baseline if training time matters most."
)
MANY_LABELS_SPEED = "about a quarter (cooking-stackexchange titles, 100 and 736 tags: 0.25x)"


def baseline_hint(config: Any, train_examples: int) -> str | None:
    """The hint for an LM-MLC label-stream `config` trained on `train_examples` examples, or None outside the
    regimes where the baseline measured better (and for every other model)."""
    if not isinstance(config, LabelMaskConfig) or not config.label_stream:
        return None
    if config.num_labels > config.label_group_size:
        return MANY_LABELS_HINT.format(speed=MANY_LABELS_SPEED)
    return ONE_GROUP_HINT if train_examples <= SMALL_TRAIN_SET else None
