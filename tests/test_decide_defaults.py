"""`benchmarks/decide_defaults.py`: the rule, and the shipped defaults equal the committed decision."""

import inspect
import json
from pathlib import Path

import pytest

from benchmarks.decide_defaults import CANDIDATES, choose, options_of
from lmmlc import DataCollatorForLabelMask, LabelMaskConfig
from lmmlc.training import parse_args

DECISION = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "defaults.json"


def summary(*means_and_sds):
    """Rows of the first candidates, in order, with these means and standard deviations."""
    return [
        {"method": name, "decoding": "one_shot", "eval_micro_f1@global": mean, "eval_micro_f1@global_sd": sd}
        for name, (mean, sd) in zip(CANDIDATES, means_and_sds, strict=False)
    ]


def test_the_cheapest_tier_within_noise_of_the_best_wins():
    assert choose(summary((0.450, 0.006), (0.455, 0.004), (0.440, 0.01), (0.44, 0.01))) == CANDIDATES[0]


def test_within_a_tier_the_better_mean_wins():
    assert choose(summary((0.430, 0.003), (0.455, 0.004), (0.440, 0.01), (0.44, 0.01))) == CANDIDATES[1]
    assert choose(summary((0.430, 0.003), (0.440, 0.004), (0.445, 0.01), (0.44, 0.01))) == CANDIDATES[2]


def test_a_clearly_better_costlier_tier_wins():
    assert choose(summary((0.430, 0.003), (0.440, 0.004), (0.440, 0.004), (0.47, 0.01))) == CANDIDATES[3]


def test_a_missing_candidate_is_named():
    with pytest.raises(ValueError, match="lmmlc-paper"):
        choose(summary((0.4, 0.0), (0.4, 0.0), (0.4, 0.0)))


def test_the_shipped_defaults_are_the_decided_ones():
    decision = json.loads(DECISION.read_text())
    assert options_of(decision["chosen"]) == decision["defaults"]
    model_args, _, lm_args, _ = parse_args(["--output_dir", "unused"])
    collator_default = inspect.signature(DataCollatorForLabelMask).parameters["reveal_strategy"].default
    assert lm_args.reveal_strategy == collator_default == decision["defaults"]["reveal_strategy"]
    signature = inspect.signature(LabelMaskConfig.__init__).parameters
    names = [f"label {i}" for i in range(28)]  # a new GoEmotions-sized model, options resolved as the config does
    new = LabelMaskConfig(label_names=names)
    options = [name for name in decision["defaults"] if name != "reveal_strategy"]
    from_cli = LabelMaskConfig(label_names=names, **{name: getattr(model_args, name) for name in options})
    for name, value in decision["defaults"].items():
        if name == "reveal_strategy":
            continue
        if value is None:  # left to the config to choose
            assert signature[name].default is getattr(model_args, name) is None, name
        else:
            assert getattr(new, name) == getattr(from_cli, name) == value, name
