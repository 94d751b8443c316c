"""Does label masking beat the baseline? Train every method on the same encoder, data, seed and budget.

Methods: the stock transformers head (`--model_type stock`), our pooled baseline (+MLM), LM-MLC
trained all-masked, LM-MLC trained with random reveal (decoded one_shot and by confidence), LM-MLC
with joint MLM, and optionally the text-once attention variant. Every run goes through `lmmlc-train`
(thresholds tuned on validation); confidence decoding reuses the saved random-reveal model.

    python -m benchmarks.run_quality --profile cpu     # about 45 minutes on 2 CPU cores
    python -m benchmarks.run_quality --profile full    # full data, several epochs (a GPU)

Writes docs/benchmarks/quality_<profile>.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import transformers

from benchmarks.anchors import run_anchor
from benchmarks.reporting import new_figure, save_figure
from lmmlc.arguments import HEAD_LEARNING_RATES, LEARNING_RATES
from lmmlc.command_options import file_options
from lmmlc.configuration_lmmlc import LabelMaskConfig, label_names_of
from lmmlc.data import load_data
from lmmlc.evaluation import (
    SPLIT_PREFIXES,
    THRESHOLD_SETTINGS,
    load_trained,
    metrics_at_thresholds,
    predict_dataset,
    threshold_settings,
)
from lmmlc.metrics import METRIC_NAMES
from lmmlc.tokenization import encode_splits
from lmmlc.training import main as train
from lmmlc.training import parse_args

COMPACT = ["--mask_mode", "per_label", "--prompt_tokens_before", "0", "--prompt_tokens_after", "0"]
SEED_TEMPLATE = ["--mask_mode", "shared", "--prompt_tokens_before", "1", "--prompt_tokens_after", "1"]
SINGLE = ["--label_stream", "false"]  # the template in the text's sequence
TEXT_SEES_LABELS = [*SINGLE, "--text_attends_labels", "true"]  # explicit: rows keep their meaning
TEXT_ONCE = ["--text_attends_labels", "false"]
HEAD_LR = ["--head_learning_rate", f"{HEAD_LEARNING_RATES['baseline']:g}"]  # lmmlc-train's default, explicit
"""The pooled heads' recipe: best GoEmotions validation micro-F1 of head rates {1e-4 (= encoder), 3e-3, 3e-2}
on the cpu profile (docs/experiments/NOTEBOOK.md, section 1b)."""
DEFAULT_LR = ["--learning_rate", f"{LEARNING_RATES['lmmlc']:g}"]
"""LM-MLC's default rate (lmmlc-train's, section 1c), given explicitly so it wins over a profile's rate."""
ROUNDS = ("one_shot", "confidence")
MLM = ["--mlm_probability", "0.15", "--mlm_loss_weight", "0.5"]
CLOZE_ONLY = ["--pooled_text_head", "false"]
"""The label stream's scores from its cloze slots alone, as before the pooled text head became the default (1f):
the rows measured before then keep their meaning."""
STREAM = ["--label_stream", "true", *TEXT_ONCE, "--reveal_strategy", "none", *CLOZE_ONLY]  # text never sees labels
STREAM_REVEAL = ["--label_stream", "true", "--prompt_tokens_before", "1", "--reveal_strategy", "random", *CLOZE_ONLY]
"""The stream trained with random reveals: a prompt token per label names a revealed label (the compact stream
puts every label at the same positions), otherwise the shipped defaults (docs/experiments/NOTEBOOK.md, section 7)."""
ALL_MASKED_VIEW = ["--all_masked_loss_weight", "1"]
OWN_POSITIONS = ["--label_stream_attention", "revealed_positions"]
"""Each label at a position of its own, seeing only revealed labels (docs/experiments/NOTEBOOK.md, section 7c)."""
POOLED_HEAD = ["--pooled_text_head", "true", *HEAD_LR]
"""The pooled baseline's head added to LM-MLC's cloze scores, at the baseline's head rate (section 1f)."""
POSITIONS_REVEAL = ["--label_stream", "true", *OWN_POSITIONS, "--reveal_strategy", "random", *CLOZE_ONLY]
"""The compact stream with random reveals where labels sit at their own positions but see only revealed labels
(a masked label ignores the other masked labels, as in the shipped `revealed` attention): section 7c."""


@dataclass(frozen=True)
class Method:
    """A training recipe (extra `lmmlc-train` options) and how its model is decoded."""

    name: str
    options: list[str]
    decodings: tuple[str, ...] = ("one_shot",)
    anchor: str | None = None  # a non-BERT row of `benchmarks.anchors` (no lmmlc-train options)


METHODS = {
    m.name: m
    for m in (
        Method("stock", ["--model_type", "stock", *HEAD_LR]),
        Method("baseline", ["--model_type", "baseline", "--pooling", "mean", *HEAD_LR]),
        Method("baseline+mlm", ["--model_type", "baseline", "--pooling", "mean", *HEAD_LR, *MLM]),
        Method("lmmlc-all-masked", [*COMPACT, *TEXT_SEES_LABELS, "--reveal_strategy", "none"]),
        Method("lmmlc-all-masked-text-once", [*COMPACT, *SINGLE, *TEXT_ONCE, "--reveal_strategy", "none"]),
        Method("lmmlc-reveal", [*COMPACT, *TEXT_SEES_LABELS, "--reveal_strategy", "random"], ROUNDS),
        Method("lmmlc-reveal+mlm", [*COMPACT, *TEXT_SEES_LABELS, "--reveal_strategy", "random", *MLM]),
        Method("lmmlc-reveal-text-once", [*COMPACT, *SINGLE, *TEXT_ONCE, "--reveal_strategy", "random"], ROUNDS),
        Method(  # the paper's setting: prompt tokens around a shared [MASK], random reveal, text sees the template
            "lmmlc-paper", [*SEED_TEMPLATE, *TEXT_SEES_LABELS, "--reveal_strategy", "random"]
        ),
        Method("lmmlc-stream", [*COMPACT, *STREAM]),
        Method("lmmlc-stream-top2", [*COMPACT, *STREAM, "--label_stream_layers", "2"]),
        Method("lmmlc-stream-top3", [*COMPACT, *STREAM, "--label_stream_layers", "3"]),
        Method("lmmlc-stream-top1", [*COMPACT, *STREAM, "--label_stream_layers", "1"]),
        Method("lmmlc-stream-sample8", [*COMPACT, *STREAM, "--label_sample_size", "8"]),
        Method(
            "lmmlc-stream-top2-sample8", [*COMPACT, *STREAM, "--label_stream_layers", "2", "--label_sample_size", "8"]
        ),
        Method("lmmlc-defaults", DEFAULT_LR),  # what a user gets with no option: the shipped defaults
        Method("lmmlc-cloze-only", [*DEFAULT_LR, *CLOZE_ONLY]),  # the defaults before the pooled text head (1f)
        Method("lmmlc-top1", [*DEFAULT_LR, "--label_stream_layers", "1"]),  # the defaults, labels in the top layer only
        Method("lmmlc-stream-reveal", [*DEFAULT_LR, *STREAM_REVEAL], ROUNDS),
        Method("lmmlc-stream-reveal-view", [*DEFAULT_LR, *STREAM_REVEAL, *ALL_MASKED_VIEW], ROUNDS),
        Method("lmmlc-pooled-head", [*DEFAULT_LR, *POOLED_HEAD]),  # + the baseline's head
        Method("lmmlc-positions-reveal", [*DEFAULT_LR, *POSITIONS_REVEAL], ROUNDS),
        Method("lmmlc-positions-reveal-view", [*DEFAULT_LR, *POSITIONS_REVEAL, *ALL_MASKED_VIEW], ROUNDS),
        Method("lmmlc-positions-all-masked", [*DEFAULT_LR, *OWN_POSITIONS, *CLOZE_ONLY]),
        Method("lmmlc-positions-pooled-head", [*DEFAULT_LR, *POOLED_HEAD, *OWN_POSITIONS]),  # the default, 7c positions
        Method(  # 7c's closest setting to issue 13's target, with the pooled text head of the default
            "lmmlc-positions-reveal-view-pooled-head",
            [*DEFAULT_LR, *POSITIONS_REVEAL, *ALL_MASKED_VIEW, *POOLED_HEAD],
            ROUNDS,
        ),
        Method(  # the same with the all-masked view weighted twice (issue 13, item 5)
            "lmmlc-positions-reveal-view2-pooled-head",
            [*DEFAULT_LR, *POSITIONS_REVEAL, "--all_masked_loss_weight", "2", *POOLED_HEAD],
            ROUNDS,
        ),
        Method("anchor-linear", [], anchor="linear"),
        Method("anchor-fasttext", [], anchor="fasttext"),
        Method("anchor-logreg", [], anchor="logreg"),
    )
}
ANCHORS = tuple(name for name, method in METHODS.items() if method.anchor)
OPTIONAL = ("lmmlc-reveal-text-once", "lmmlc-all-masked-text-once", "lmmlc-paper")
DEFAULT_METHODS = [name for name in METHODS if name not in OPTIONAL and "stream" not in name]


@dataclass(frozen=True)
class Profile:
    """Budget per dataset: `lmmlc-train` options, and the threshold settings decoded in rounds."""

    datasets: dict[str, list[str]]
    confidence_thresholds: tuple[str, ...] = THRESHOLD_SETTINGS
    notes: list[str] = field(default_factory=list)
    methods: tuple[str, ...] | None = None  # rows run without --methods (default: DEFAULT_METHODS)
    anchors_full_train: bool = False  # anchors train on the whole train split, not the BERT rows' subset


README_JOB = Path(__file__).resolve().parents[1] / "configs" / "goemotions-minilm-quick.yaml"


def readme_job_options(path: Path = README_JOB) -> list[str]:
    """The options of the README's main job (a YAML file), less where it reads and writes and its seed."""
    options = file_options(str(path))
    skip = {"--data_dir", "--output_dir", "--seed"}
    return [v for i, v in enumerate(options) if v not in skip and (i == 0 or options[i - 1] not in skip)]


COMMON = [
    "--report_to",
    "none",
    "--save_strategy",
    "no",
    "--logging_steps",
    "25",
    "--overwrite_output_dir",
]
PROFILES = {
    "cpu": Profile(
        datasets={
            "goemotions": [
                *["--max_train_samples", "4000", "--num_train_epochs", "1", "--per_device_train_batch_size", "32"],
                *["--learning_rate", "1e-4", "--warmup_steps", "12"],
            ],
            "aapd-small": [
                *["--max_seq_length", "128", "--num_train_epochs", "3", "--per_device_train_batch_size", "16"],
                *["--learning_rate", "2e-4", "--warmup_steps", "10"],
            ],
        },
        confidence_thresholds=("0.5", "global"),
        notes=[
            "GoEmotions: the first 4,000 training examples, 1 epoch; full validation and test.",
            "aapd-small: all 800 training abstracts cut to 128 tokens, 3 epochs.",
            "Confidence decoding at 0.5 and the tuned global threshold (per-label: full profile only).",
        ],
    ),
    "cpu-full": Profile(
        datasets={
            "goemotions": [
                *["--num_train_epochs", "1", "--per_device_train_batch_size", "32"],
                *["--per_device_eval_batch_size", "64", "--learning_rate", "1e-4", "--warmup_steps", "100"],
            ],
            "aapd-small": [
                *["--max_seq_length", "256", "--num_train_epochs", "5", "--per_device_train_batch_size", "16"],
                *["--learning_rate", "2e-4", "--warmup_steps", "25"],
            ],
        },
        notes=[
            "GoEmotions: the full training set (43,410 comments), 1 epoch; full validation and test.",
            "aapd-small: all 800 training abstracts cut to 256 tokens, 5 epochs.",
            "Rows: the stock head and pooled baseline (their tuned recipes), LM-MLC (defaults; reveal + rounds), "
            "the anchors; cooking-stackexchange: benchmarks.many_labels.",
            "Learning rates: the profile's 1e-4 (stock and baseline with a 3e-2 head); lmmlc-defaults: lmmlc-train's "
            "default (3e-4).",
        ],
        methods=("stock", "baseline", "lmmlc-defaults", "lmmlc-reveal", *ANCHORS),
    ),
    "readme": Profile(
        datasets={"goemotions": readme_job_options()},
        methods=("lmmlc-defaults", *ANCHORS),
        anchors_full_train=True,
        notes=[
            "GoEmotions: the README's main job (configs/goemotions-minilm-quick.yaml) with the shipped defaults.",
            "Anchors: trained on the full training set (43,410 comments); thresholds tuned on validation.",
        ],
    ),
    "full": Profile(
        datasets={
            "goemotions": [
                *["--num_train_epochs", "3", "--per_device_train_batch_size", "32"],
                *["--learning_rate", "5e-5", "--warmup_steps", "200", "--bf16"],
            ],
            "aapd-small": [
                *["--num_train_epochs", "10", "--per_device_train_batch_size", "16"],
                *["--learning_rate", "1e-4", "--warmup_steps", "25", "--bf16"],
            ],
        },
        notes=["Full training sets, several epochs, bf16 (needs a GPU)."],
    ),
}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    parser.add_argument("--datasets", nargs="+", help="Which of the profile's datasets (default: all).")
    parser.add_argument("--methods", nargs="+", choices=sorted(METHODS), help="Rows (default: the profile's).")
    parser.add_argument("--data_root", default="../shared/data", help="Folder with one folder per dataset.")
    parser.add_argument("--model_name_or_path", help="Encoder (default: the bundled MiniLM).")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42], help="Train every BERT row once per seed.")
    parser.add_argument("--work_dir", default="outputs/benchmarks", help="Where the trained models go.")
    parser.add_argument("--report_dir", default="docs/benchmarks")
    parser.add_argument(
        "--round_thresholds",
        nargs="+",
        choices=THRESHOLD_SETTINGS,
        help="Threshold settings decoded in rounds (default: the profile's).",
    )
    parser.add_argument(
        "--round_strategies",
        nargs="+",
        choices=("confidence",),
        help="Strategies decoded in rounds for every method that decodes in rounds (default: each method's own); "
        "given, every row's one pass is timed too.",
    )
    parser.add_argument(
        "--round_margin",
        type=float,
        help="Certainty margin of the confidence rounds (default: each model's decode_margin).",
    )
    parser.add_argument(
        "--reuse_trained",
        action="store_true",
        help="Decode a model already trained in --work_dir by the same "
        "command (its all_results.json) instead of training it again; its seconds are then left out.",
    )
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="More lmmlc-train options (last).")
    return parser.parse_args(argv)


def train_options(args: argparse.Namespace, dataset: str, method: Method, output: Path, seed: int = 42) -> list[str]:
    """The full `lmmlc-train` command line of one run."""
    options = ["--data_dir", str(Path(args.data_root) / dataset), "--output_dir", str(output), *COMMON]
    options += ["--seed", str(seed)]
    if args.model_name_or_path:
        options += ["--model_name_or_path", args.model_name_or_path]
    return options + PROFILES[args.profile].datasets[dataset] + method.options + args.extra


def round_scores(
    folder: Path,
    options: list[str],
    settings: tuple[str, ...],
    strategy: str = "confidence",
    splits: tuple[str, ...] = tuple(SPLIT_PREFIXES),
    margin: float | None = None,
) -> dict:
    """`{prefix}_{metric}@{setting}` of decoding by `strategy` on the run's own `splits` (validation and test), each
    setting's thresholds used while decoding; `test_examples_per_second` of the last setting's test decoding (after an
    untimed warm-up batch, so that a run's first decoding pays no start-up cost); `margin` overrides the model's
    `decode_margin`."""
    model, tokenizer = load_trained(str(folder))
    data_args = parse_args(options)[1]
    data = load_data(data_args, label_names_of(model.config), need_train=False)
    encoded = encode_splits(data, tokenizer, model.config, data_args, splits)
    thresholds = threshold_settings(model.config)
    decodes = isinstance(model.config, LabelMaskConfig)  # other models score in one pass (timed all the same)
    extra = {} if margin is None else {"margin": margin}
    results = {}
    first = next(iter(encoded.values()))
    predict_dataset(model, tokenizer, first.select(range(min(8, len(first)))), progress=False)  # untimed warm-up
    for split, dataset in encoded.items():
        for setting in settings:
            start = time.perf_counter()
            options = {"strategy": strategy, "thresholds": thresholds[setting], **extra} if decodes else {}
            probs = predict_dataset(model, tokenizer, dataset, **options)
            if split == "test":
                results["test_examples_per_second"] = len(dataset) / (time.perf_counter() - start)
            references = np.asarray(dataset["labels"])
            chosen = {setting: thresholds[setting]}
            results.update(metrics_at_thresholds(probs, references, chosen, SPLIT_PREFIXES[split]))
    return results


def run_method(args: argparse.Namespace, dataset: str, method: Method) -> list[dict]:
    """Train one method on one dataset, once per seed (anchors: once); one result row per seed and decoding."""
    if method.anchor:  # the same train examples as the BERT rows; thresholds tuned on validation as lmmlc-train does
        limit = parse_args(train_options(args, dataset, method, Path(args.work_dir)))[1].max_train_samples
        limit = None if PROFILES[args.profile].anchors_full_train else limit
        result = run_anchor(method.anchor, Path(args.data_root) / dataset, max_train_samples=limit)
        return [{"dataset": dataset, "method": method.name, "decoding": "one_shot", **result}]
    return [row for seed in args.seeds for row in run_seed(args, dataset, method, seed)]


def run_seed(args: argparse.Namespace, dataset: str, method: Method, seed: int) -> list[dict]:
    """One training run of a BERT row; one result row per decoding."""
    output = Path(args.work_dir) / args.profile / dataset / method.name
    if len(args.seeds) > 1:
        output = output / f"seed-{seed}"
    options = train_options(args, dataset, method, output, seed)
    start = time.perf_counter()
    reused = args.reuse_trained and (output / "all_results.json").exists()
    if not reused:
        train(options)
    seconds = None if reused else time.perf_counter() - start
    trained = json.loads((output / "all_results.json").read_text())
    head = {"dataset": dataset, "method": method.name, "seed": seed}
    rows = [{**head, "decoding": "one_shot", "seconds": seconds, **trained, **({"reused": True} if reused else {})}]
    settings = tuple(args.round_thresholds or PROFILES[args.profile].confidence_thresholds)
    rounds = (args.round_strategies or method.decodings[1:]) if len(method.decodings) > 1 else ()
    if rounds or args.round_strategies:  # one pass timed as the rounds are (every row of a study of rounds)
        timed = round_scores(output, options, settings[-1:], "one_shot", splits=("test",))
        rows[0]["test_examples_per_second"] = timed["test_examples_per_second"]
    for strategy in rounds:
        start = time.perf_counter()
        scores = round_scores(output, options, settings, strategy, margin=args.round_margin)
        rows.append({**head, "decoding": strategy, **scores, "seconds": time.perf_counter() - start})
    return rows


def mean_over_seeds(rows: list[dict]) -> list[dict]:
    """One row per dataset, method and decoding: every number averaged over seeds, `{key}_sd` its standard
    deviation (ddof 1) when there are several, `seeds` the seeds."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["dataset"], row["method"], row["decoding"]), []).append(row)
    summary = []
    for (dataset, method, decoding), members in groups.items():
        merged = {"dataset": dataset, "method": method, "decoding": decoding}
        merged["seeds"] = [r["seed"] for r in members if r.get("seed") is not None]
        for key in members[0]:
            values = [r.get(key) for r in members]
            if key == "seed" or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                continue
            merged[key] = float(np.mean(values))
            if len(values) > 1:
                merged[f"{key}_sd"] = float(np.std(values, ddof=1))
        summary.append(merged)
    return summary


def cell(row: dict, key: str) -> str:
    """`0.4594`, `0.4594 ± 0.0050` over seeds, or `n/a`."""
    if row.get(key) is None:
        return "n/a"
    return f"{row[key]:.4f}" + (f" ± {row[f'{key}_sd']:.4f}" if f"{key}_sd" in row else "")


def markdown(rows: list[dict], prefix: str, setting: str) -> str:
    """One table per dataset: a row per method and decoding (mean ± sd over seeds), a column per metric."""
    parts = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        parts += [f"**{dataset}**, {'test' if prefix == 'test' else 'validation'}, threshold {setting}", ""]
        parts.append("| method | decoding | " + " | ".join(METRIC_NAMES) + " |")
        parts.append("|---|---|" + "---|" * len(METRIC_NAMES))
        for r in (r for r in rows if r["dataset"] == dataset):
            cells = " | ".join(cell(r, f"{prefix}_{metric}@{setting}") for metric in METRIC_NAMES)
            parts.append(f"| {r['method']} | {r['decoding']} | {cells} |")
        parts.append("")
    return "\n".join(parts)


def chart(rows: list[dict], path: Path) -> None:
    """Test subset accuracy and micro-F1 at the tuned global threshold, per dataset and method."""
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    figure, axes = new_figure(1, len(datasets), size=(7 * len(datasets), 4.5), squeeze=False)
    for axis, dataset in zip(axes[0], datasets, strict=True):
        mine = [r for r in rows if r["dataset"] == dataset]
        names = [f"{r['method']}\n{r['decoding']}" for r in mine]
        x = np.arange(len(mine))
        for offset, metric in ((-0.2, "subset_accuracy"), (0.2, "micro_f1")):
            axis.bar(x + offset, [r.get(f"test_{metric}@global", 0.0) for r in mine], width=0.4, label=metric)
        axis.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
        axis.set_ylim(0, 1)
        axis.set_title(f"{dataset}: test, tuned global threshold")
        axis.legend()  # matplotlib's default size, not save_figure's
    save_figure(figure, None, path, dpi=110)


def write_report(args: argparse.Namespace, rows: list[dict], command: str) -> Path:
    """JSON, Markdown and PNG under --report_dir; returns the Markdown file."""
    folder = Path(args.report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"quality_{args.profile}"
    machine = {
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "threads": torch.get_num_threads(),
    }
    summary = mean_over_seeds(rows)
    report = {"command": command, "profile": args.profile, "machine": machine, "rows": rows, "summary": summary}
    report["notes"] = [*PROFILES[args.profile].notes, f"Seeds of the BERT rows: {args.seeds} (mean ± sd)."]
    if args.extra:  # they come last, so they override the notes above where they name the same option
        report["notes"].append(f"Every BERT row also ran with `{' '.join(args.extra)}` (overrides the profile).")
    Path(f"{stem}.json").write_text(json.dumps(report, indent=2))
    lines = [f"# Quality benchmark, profile `{args.profile}`", "", f"`{command}`", ""]
    lines += [f"- {note}" for note in report["notes"]]
    lines += [f"- Machine: {machine}", ""]
    lines += ["| dataset | method | decoding | seconds (mean over seeds) |", "|---|---|---|---|"]
    lines += [
        f"| {r['dataset']} | {r['method']} | {r['decoding']} | {r.get('seconds', r.get('train_seconds', 0)):.0f} |"
        for r in summary
    ]
    lines.append("")
    for prefix in ("test", "eval"):
        for setting in THRESHOLD_SETTINGS:
            lines.append(markdown(summary, prefix, setting))
    Path(f"{stem}.md").write_text("\n".join(lines))
    chart(summary, Path(f"{stem}.png"))
    return Path(f"{stem}.md")


def check_datasets(profile: str, datasets: list[str], data_root: str) -> None:
    """Refuse datasets that the profile has no budget for, or whose data is not under `data_root`."""
    unknown = sorted(set(datasets) - set(PROFILES[profile].datasets))
    if unknown:
        raise ValueError(f"Datasets {unknown} are not in profile {profile!r}: {sorted(PROFILES[profile].datasets)}.")
    for dataset in datasets:
        if not (Path(data_root) / dataset / "labels.txt").exists():
            raise FileNotFoundError(f"No {dataset} data at {Path(data_root) / dataset} (see --data_root).")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    datasets = args.datasets or list(PROFILES[args.profile].datasets)
    check_datasets(args.profile, datasets, args.data_root)
    command = " ".join(["python -m benchmarks.run_quality", *(sys.argv[1:] if argv is None else argv)])
    methods = args.methods or PROFILES[args.profile].methods or DEFAULT_METHODS
    rows = [row for dataset in datasets for name in methods for row in run_method(args, dataset, METHODS[name])]
    path = write_report(args, rows, command)
    print(path.read_text())


if __name__ == "__main__":
    main()
