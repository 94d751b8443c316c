"""Which LM-MLC recipe becomes the default: read a seeded `run_quality` report, choose on validation, write the
decision table. The defaults of `LabelMaskConfig` and `lmmlc-train` are tested against its `defaults`.

    python -m benchmarks.run_quality --profile cpu --datasets goemotions --seeds 42 43 44 \\
        --methods lmmlc-all-masked-text-once lmmlc-all-masked lmmlc-paper \\
        --work_dir outputs/decide --report_dir docs/benchmarks/decide
    python -m benchmarks.run_quality --profile cpu --datasets goemotions --seeds 42 43 44 \\
        --methods lmmlc-stream --work_dir outputs/decide --report_dir docs/benchmarks/decide/stream
    python -m benchmarks.decide_defaults                     # -> docs/benchmarks/defaults.{json,md}

The training recipe (loss, learning-rate schedule, whether the pooled text head joins the cloze scores, and
whether each label sits at a position of its own) is decided the same way, from `lmmlc-defaults` runs with
`--extra --classification_loss L --lr_scheduler_type S` (made while the cloze scores alone were the default),
`lmmlc-pooled-head` and `lmmlc-positions-pooled-head` runs (`RECIPES` names their reports):

    python -m benchmarks.decide_defaults --recipe            # -> docs/benchmarks/defaults-recipe.{json,md}

Rule: the candidates come in tiers of cost, cheapest first; the winner is the best mean validation micro-F1
(tuned global threshold) of the first tier holding a candidate within noise of the best mean overall (no lower
than it by more than the larger of the two standard deviations over seeds). Test figures are shown, never used
to choose.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import NamedTuple

from benchmarks.run_quality import METHODS, OWN_POSITIONS, POOLED_HEAD, mean_over_seeds
from lmmlc.training import parse_args

TIERS = (("lmmlc-stream",), ("lmmlc-all-masked-text-once", "lmmlc-all-masked"), ("lmmlc-paper",))
"""Cost tiers, cheapest first: training / one-pass inference examples/s at 28 labels 0.64x / 0.75x, 0.57x / 0.53x
(both compact single sequences; text-once is cheaper only when decoding in rounds) and 0.30x / 0.24x the stock
model's (docs/experiments/NOTEBOOK.md, sections 2 and 5a)."""
CANDIDATES = tuple(name for tier in TIERS for name in tier)
REPORTS = ["docs/benchmarks/decide/quality_cpu.json", "docs/benchmarks/decide/stream/quality_cpu.json"]
RULE = __doc__.split("Rule: ")[1].strip().replace("\n", " ")
DECIDED = (
    "label_stream",
    "mask_mode",
    "prompt_tokens_before",
    "prompt_tokens_after",
    "text_attends_labels",
    "reveal_strategy",
)
METRIC = "eval_micro_f1@global"
SHOWN = (
    "eval_micro_f1@global",
    "eval_macro_f1@per_label",
    "eval_subset_accuracy@global",
    "test_micro_f1@global",
    "test_macro_f1@per_label",
    "test_subset_accuracy@global",
)


RECIPE_DECIDED = (
    "classification_loss",
    "lr_scheduler_type",
    "pooled_text_head",
    "head_learning_rate",
    "label_stream_attention",
)
CLOZE_ONLY = ["--pooled_text_head", "false"]


class Recipe(NamedTuple):
    """A recipe candidate: its `lmmlc-train` options, and the report folders whose `method` rows are its seeds."""

    options: list[str]
    folders: tuple[str, ...]
    method: str = "lmmlc-defaults"


RECIPES = {
    "bce-linear": Recipe(CLOZE_ONLY, ("docs/benchmarks/loss/bce-linear", "docs/benchmarks/lr/lmmlc-lr3e-4-seeds")),
    "zlpr-linear": Recipe(
        ["--classification_loss", "zlpr", *CLOZE_ONLY],
        ("docs/benchmarks/loss/zlpr-linear", "docs/benchmarks/loss/zlpr-linear-seeds"),
    ),
    "focal-linear": Recipe(["--classification_loss", "focal", *CLOZE_ONLY], ("docs/benchmarks/loss/focal-linear",)),
    "bce-cosine": Recipe(
        ["--lr_scheduler_type", "cosine", *CLOZE_ONLY],
        ("docs/benchmarks/loss/bce-cosine", "docs/benchmarks/loss/bce-cosine-seeds"),
    ),
    "bce-linear-pooled-head": Recipe(
        POOLED_HEAD,
        ("docs/benchmarks/pooled/goemotions-cpu", "docs/benchmarks/pooled/goemotions-cpu-seeds"),
        "lmmlc-pooled-head",
    ),
    "bce-linear-pooled-head-positions": Recipe(  # each label at a position of its own (7c's all-masked gain)
        [*POOLED_HEAD, *OWN_POSITIONS],
        ("docs/benchmarks/pooled/goemotions-cpu-positions",),
        "lmmlc-positions-pooled-head",
    ),
}
"""One tier: about the same cost per step (the pooled text head adds one mean pooling and a 384 x 28 product; in one
`run_speed` run, 45.0 against 47.4 training and 204 against 216 inference examples/s, speed_pooled.json; own
positions add one embedding lookup per label, 0.94-1.02x in docs/experiments/NOTEBOOK.md 7c). The
lr-sweep seeds 43 and 44 of the cloze-only recipe (section 1c) are bce-linear's."""


def parsed_options(options: list[str], names: tuple[str, ...]) -> dict:
    """The values of option `names` in an `lmmlc-train` command line, as lmmlc-train parses them (enums by value)."""
    parsed = parse_args([*options, "--output_dir", "unused"])
    values = {name: getattr(next(a for a in parsed if hasattr(a, name)), name) for name in names}
    return {name: getattr(value, "value", value) for name, value in values.items()}


def options_of(method: str) -> dict:
    """The decided options' values in a method's `lmmlc-train` command line."""
    return parsed_options(METHODS[method].options, DECIDED)


def choose(summary: list[dict], tiers: tuple[tuple[str, ...], ...] = TIERS, metric: str = METRIC) -> str:
    """The best mean `metric` of the cheapest tier that holds a candidate within noise of the best mean."""
    names = [name for tier in tiers for name in tier]
    rows = {r["method"]: r for r in summary if r["method"] in names and r["decoding"] == "one_shot"}
    missing = [name for name in names if name not in rows]
    if missing:
        raise ValueError(f"The report has no one_shot row of {missing}; run them (see this module's docstring).")
    best = max(rows.values(), key=lambda r: r[metric])

    def close(name: str) -> bool:
        noise = max(rows[name].get(f"{metric}_sd", 0.0), best.get(f"{metric}_sd", 0.0))
        return rows[name][metric] >= best[metric] - noise

    tier = next(tier for tier in tiers if any(close(name) for name in tier))
    return max(tier, key=lambda name: rows[name][metric])


def recipe_options(name: str) -> dict:
    """The decided recipe options of a `RECIPES` candidate, as lmmlc-train parses them."""
    return parsed_options(RECIPES[name].options, RECIPE_DECIDED)


def recipe_summary(root: Path = Path(".")) -> tuple[list[dict], list[str]]:
    """One row per `RECIPES` candidate: `run_quality.mean_over_seeds` of the one-pass rows of its method in its
    reports, and the commands that made those reports. A seed given twice, or rows of more than one dataset, are
    refused."""
    summary, commands = [], []
    for name, (_, folders, method) in RECIPES.items():
        reports = [json.loads((root / folder / "quality_cpu.json").read_text()) for folder in folders]
        commands += [report["command"] for report in reports if "command" in report]
        rows = [
            {**row, "method": name}
            for report in reports
            for row in report["rows"]
            if row["method"] == method and row["decoding"] == "one_shot"
        ]
        seeds, datasets = [r["seed"] for r in rows], {r.get("dataset") for r in rows}
        if len(set(seeds)) != len(seeds) or len(datasets) != 1:
            raise ValueError(
                f"{name}: its reports {folders} hold seeds {seeds} of datasets {sorted(map(str, datasets))}"
            )
        summary += mean_over_seeds(rows)
    return summary, commands


def table(summary: list[dict], chosen: str, names: tuple[str, ...] = CANDIDATES) -> str:
    """Markdown: one row per candidate, mean ± sd of the shown metrics (the mean alone for one seed)."""
    lines = ["| candidate | " + " | ".join(SHOWN) + " | chosen |", "|---|" + "---|" * (len(SHOWN) + 1)]
    for name in names:
        row = next(r for r in summary if r["method"] == name and r["decoding"] == "one_shot")
        cells = [f"{row[k]:.4f}" + (f" ± {row[f'{k}_sd']:.4f}" if f"{k}_sd" in row else "") for k in SHOWN]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {'**yes**' if name == chosen else ''} |")
    return "\n".join(lines)


def write_decision(output: str, title: str, decision: dict, summary: list[dict], names: tuple[str, ...]) -> None:
    """`output`.json (the decision) and `output`.md (commands, rule, table, defaults); the Markdown is printed."""
    Path(f"{output}.json").write_text(json.dumps(decision, indent=2) + "\n")
    text = [f"# {title}: `{decision['chosen']}`", "", *(f"`{c}`" for c in decision["commands"]), ""]
    text += [RULE, "", table(summary, decision["chosen"], names), "", f"Defaults: `{json.dumps(decision['defaults'])}`"]
    Path(f"{output}.md").write_text("\n".join([*text, ""]))
    print("\n".join(text))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", nargs="+", default=None, help=f"Template decision's reports (default: {REPORTS}).")
    parser.add_argument("--output", default=None, help="Writes OUTPUT.json and OUTPUT.md.")
    parser.add_argument(
        "--recipe", action="store_true", help="Decide the loss, schedule and text head (RECIPES) instead."
    )
    args = parser.parse_args(argv)
    if args.recipe and args.reports:
        parser.error("--recipe reads the reports named in RECIPES; leave --reports out.")
    if args.recipe:
        decide_recipe(args.output or "docs/benchmarks/defaults-recipe")
    else:
        decide_template(args.reports or REPORTS, args.output or "docs/benchmarks/defaults")


def decide_template(paths: list[str], output: str) -> None:
    """Choose the template and reveal defaults among `CANDIDATES` (`TIERS`); write `output`.json/.md."""
    reports = [json.loads(Path(path).read_text()) for path in paths]
    summary = [row for report in reports for row in report["summary"]]
    chosen = choose(summary)
    decision = {
        "reports": paths,
        "commands": [report["command"] for report in reports],
        "rule": RULE,
        "seeds": next(r["seeds"] for r in summary if r["method"] == chosen),
        "chosen": chosen,
        "defaults": options_of(chosen),
        "candidates": {name: options_of(name) for name in CANDIDATES},
    }
    write_decision(output, "Defaults chosen by measurement", decision, summary, CANDIDATES)


def decide_recipe(output: str) -> None:
    """Choose the loss, schedule and text head among `RECIPES` by the rule (one tier); write `output`.json/.md."""
    summary, commands = recipe_summary()
    chosen = choose(summary, tiers=(tuple(RECIPES),))
    decision = {
        "reports": {name: list(recipe.folders) for name, recipe in RECIPES.items()},
        "commands": commands,
        "rule": RULE,
        "chosen": chosen,
        "defaults": recipe_options(chosen),
        "candidates": {row["method"]: {**recipe_options(row["method"]), "seeds": row["seeds"]} for row in summary},
    }
    write_decision(output, "Training recipe chosen by measurement", decision, summary, tuple(RECIPES))


if __name__ == "__main__":
    main()
