"""`benchmarks/decide_defaults.py`: the rule, and the shipped defaults equal the committed decision."""

import inspect
import json
from pathlib import Path

import pytest

from benchmarks import decide_defaults
from benchmarks.decide_defaults import (
    CANDIDATES,
    METRIC,
    SHOWN,
    Recipe,
    choose,
    options_of,
    recipe_options,
    recipe_summary,
)
from lmmlc import DataCollatorForLabelMask, LabelMaskConfig
from lmmlc.arguments import HEAD_LEARNING_RATES
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


RECIPE_DECISION = DECISION.with_name("defaults-recipe.json")


def write_report(folder, *values, method="lmmlc-defaults", dataset="goemotions", first_seed=42):
    rows = [
        {
            "dataset": dataset,
            "method": method,
            "decoding": "one_shot",
            "seed": first_seed + i,
            **dict.fromkeys(SHOWN, v),
        }
        for i, v in enumerate(values)
    ]
    rows.append(
        {"dataset": dataset, "method": method, "decoding": "confidence", "seed": 0, **dict.fromkeys(SHOWN, 9.0)}
    )
    folder.mkdir()
    (folder / "quality_cpu.json").write_text(json.dumps({"command": f"run {folder.name}", "rows": rows}))


def test_recipe_seeds_are_pooled_across_reports_from_the_shipped_models_one_pass_rows(tmp_path, monkeypatch):
    write_report(tmp_path / "a", 0.5)
    write_report(tmp_path / "b", 0.6, 0.7, first_seed=43)
    write_report(tmp_path / "c", 0.4)
    write_report(tmp_path / "d", 9.0, method="baseline")
    recipes = {"x": Recipe([], ("a", "b", "d")), "y": Recipe([], ("c",)), "z": Recipe([], ("d",), "baseline")}
    monkeypatch.setattr(decide_defaults, "RECIPES", recipes)
    (x, y, z), commands = recipe_summary(tmp_path)
    assert x["seeds"] == [42, 43, 44] and x[METRIC] == pytest.approx(0.6) and x[f"{METRIC}_sd"] == pytest.approx(0.1)
    assert y[METRIC] == pytest.approx(0.4) and f"{METRIC}_sd" not in y  # one seed: no sd
    assert z["method"] == "z" and z[METRIC] == pytest.approx(9.0)  # a candidate's own method's rows
    assert commands == ["run a", "run b", "run d", "run c", "run d"]
    assert choose([x, y], tiers=(("x", "y"),)) == "x"
    assert "| y | 0.4000 |" in decide_defaults.table([x, y], "x", ("x", "y"))  # one seed: the mean alone


@pytest.mark.parametrize("second", [{"first_seed": 42}, {"first_seed": 43, "dataset": "aapd-small"}])
def test_recipe_reports_that_repeat_a_seed_or_mix_datasets_are_refused(second, tmp_path, monkeypatch):
    write_report(tmp_path / "a", 0.5)
    write_report(tmp_path / "b", 0.6, **second)
    monkeypatch.setattr(decide_defaults, "RECIPES", {"x": Recipe([], ("a", "b"))})
    with pytest.raises(ValueError, match=r"x: its reports .* hold seeds"):
        recipe_summary(tmp_path)


def test_the_shipped_loss_schedule_and_text_head_are_the_decided_ones():
    decision = json.loads(RECIPE_DECISION.read_text())
    summary, _ = recipe_summary(RECIPE_DECISION.parents[2])  # the committed reports still give this decision
    assert choose(summary, tiers=(tuple(decide_defaults.RECIPES),)) == decision["chosen"]
    assert recipe_options(decision["chosen"]) == decision["defaults"]
    model_args, _, _, training_args = parse_args(["--output_dir", "unused"])
    config_default = LabelMaskConfig(label_names=["a", "b"]).classification_loss
    assert model_args.classification_loss == decision["defaults"]["classification_loss"]
    assert config_default == decision["defaults"]["classification_loss"]
    assert training_args.lr_scheduler_type == decision["defaults"]["lr_scheduler_type"]
    new = LabelMaskConfig(label_names=["a", "b"], pooled_text_head=model_args.pooled_text_head)  # a new stream model
    assert new.label_stream and new.pooled_text_head == decision["defaults"]["pooled_text_head"]
    assert model_args.label_stream_attention == new.label_stream_attention
    assert new.label_stream_attention == decision["defaults"]["label_stream_attention"]
    assert training_args.head_learning_rate is None  # lmmlc-train trains a new head at the decided rate:
    assert HEAD_LEARNING_RATES["lmmlc"] == decision["defaults"]["head_learning_rate"]  # tests/test_training.py
