"""Command-line arguments of the lmmlc scripts, as dataclasses for `HfArgumentParser`."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any, get_type_hints

from huggingface_hub.utils import HFValidationError, validate_repo_id
from transformers import TrainingArguments

from .configuration_lmmlc import LabelMaskConfig, MultiLabelBertConfig


def check_model_path(path: str | None, option: str) -> None:
    """Refuse an `option` value that is neither an existing folder or file nor a possible Hub id (`owner/name`),
    before anything loads: transformers would otherwise answer with a Hub id format error."""
    if path is None or Path(path).exists():
        return
    try:
        validate_repo_id(path)
    except HFValidationError:
        raise FileNotFoundError(f"{option} {path}: no such folder (and it is not a Hub id); check the path.") from None
    if Path(Path(path).parts[0]).is_dir():  # `outputs/run` where ./outputs exists: a local folder that is missing
        raise FileNotFoundError(f"{option} {path}: no such folder (./{Path(path).parts[0]} has no {Path(path).name}).")


def check_output_file(path: str, option: str = "--output_file") -> None:
    """Refuse an `option` file that cannot be written (its folder missing, or the path a folder), before any
    work is spent."""
    if Path(path).is_dir():
        raise IsADirectoryError(f"{option} {path} is a folder; give a file path, e.g. {Path(path) / 'out.json'}.")
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise FileNotFoundError(f"The folder of {option}, {folder}, does not exist; create it first.")


def _help(text: str, default=None, **kwargs):
    return field(default=default, metadata={"help": text, **kwargs})


def config_fields(*config_classes: type) -> list[tuple[str, Any, Any]]:
    """`make_dataclass` fields of the options the config classes declare in `option_help`: help text from
    there, type and default from the config's `__init__`, so no default is written twice."""
    fields = {}
    for config_class in config_classes:
        for name, text in config_class.option_help.items():
            owner = next(c for c in config_class.__mro__ if name in inspect.signature(c.__init__).parameters)
            default = inspect.signature(owner.__init__).parameters[name].default
            fields[name] = (name, get_type_hints(owner.__init__)[name], _help(text, default))
    return list(fields.values())


def option_table(*config_classes: type) -> str:
    """The model options of `config_classes` as a Markdown table (option, default, help), as docs/USAGE.md shows it:
    generated from `option_help` and the configs' `__init__`, like lmmlc-train's flags."""
    rows = ["| option | default | what it does |", "|---|---|---|"]
    for name, _, spec in config_fields(*config_classes):
        text = spec.metadata["help"].replace("|", "\\|")
        rows.append(f"| `--{name}` | `{spec.default}` | {text} |")
    return "\n".join(rows)


ModelArguments = make_dataclass(
    "ModelArguments",
    [
        ("model_name_or_path", str | None, _help("BERT folder or Hub id (default: the bundled MiniLM-L6-H384).")),
        (
            "model_type",
            str,
            _help(
                "lmmlc (label mask), baseline (pooled BERT + linear) or stock (transformers' own "
                "AutoModelForSequenceClassification with problem_type=multi_label_classification, the reference).",
                "lmmlc",
            ),
        ),
        ("tokenizer_name", str | None, _help("Tokenizer folder or Hub id (default: the model's).")),
        *config_fields(MultiLabelBertConfig, LabelMaskConfig),
    ],
)
ModelArguments.__doc__ = "Which encoder and head, and the model config options (generated from the configs)."
ModelArguments.__module__ = __name__  # picklable, like a dataclass written here


@dataclass
class DataArguments:
    """Where the data is; the default is GoEmotions as shipped in the repository's data/goemotions."""

    data_dir: str | None = _help("Folder with train/validation/test .jsonl/.csv/.tsv files and labels.txt.")
    train_file: str | None = _help("Train file (.jsonl, .csv or .tsv); overrides --data_dir.")
    validation_file: str | None = _help("Validation file (thresholds are tuned on it).")
    test_file: str | None = _help("Test file.")
    labels_file: str | None = _help("Label names, one per line (default: labels.txt in --data_dir).")
    dataset_name: str | None = _help("Hub dataset id, used when no local data is given (needs internet).")
    dataset_config_name: str | None = _help("Hub dataset config name.")
    text_column: str = _help("Column with the text.", "text")
    label_column: str = _help("Column with the label names.", "labels")
    label_separator: str = _help("Separator of label names in csv/tsv label columns.", ",")
    max_seq_length: int | None = _help(
        "Most text tokens per example, [CLS]/[SEP] included (the template is extra); with --max_windows > 1, per "
        "window (default: the encoder's positions)."
    )
    max_train_samples: int | None = _help("Use only the first N training examples.")
    max_eval_samples: int | None = _help("Use only the first N validation examples.")
    max_predict_samples: int | None = _help("Use only the first N test examples.")

    def __post_init__(self) -> None:
        for name in ("max_train_samples", "max_eval_samples", "max_predict_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name} {value}: give at least 1, or leave it out to use every example.")


LEARNING_RATES = {"lmmlc": 3e-4, "baseline": 1e-4, "stock": 1e-4}
"""Default peak learning rate per `--model_type`: the best tried on GoEmotions validation with MiniLM
(docs/experiments/NOTEBOOK.md, section 1c)."""
HEAD_LEARNING_RATES = {"lmmlc": 3e-2, "baseline": 3e-2, "stock": 3e-2}
"""Default peak learning rate of a model's new head per `--model_type` (sections 1b, 1f). A pooled model always has
one; an LM-MLC model only with its pooled text head or label ranker (`lmmlc.training.head_learning_rate`)."""


@dataclass
class PretrainTrainingArguments(TrainingArguments):
    """transformers' TrainingArguments plus `--overwrite_output_dir` (which transformers 5 dropped)."""

    overwrite_output_dir: bool = _help(
        "Replace an earlier lmmlc run in a non-empty --output_dir (only what that run wrote is cleared).", False
    )


@dataclass
class LmmlcTrainingArguments(TrainingArguments):
    """transformers' TrainingArguments plus `--overwrite_output_dir` (which transformers 5 dropped);
    `--resume_from_checkpoint` also takes `latest` (the newest complete checkpoint in --output_dir);
    learning rates default by model type (`resolve_learning_rates`)."""

    learning_rate: float | None = _help(
        "Peak learning rate (AdamW). Default by --model_type, the best measured (docs/experiments/NOTEBOOK.md 1c): "
        + ", ".join(f"{name} {rate:g}" for name, rate in LEARNING_RATES.items())
        + "."
    )
    overwrite_output_dir: bool = _help(
        "Replace an earlier lmmlc run in a non-empty --output_dir: once every input is checked, clear what that run "
        "wrote (its lmmlc_run.json lists it); a folder holding anything else is refused.",
        False,
    )
    head_learning_rate: float | None = _help(
        "Peak learning rate of the new head's parameters (pooled models: everything outside the encoder; lmmlc: "
        "its --pooled_text_head and label ranker), on the same schedule; "
        "default: "
        + ", ".join(f"{name} {rate:g}" for name, rate in HEAD_LEARNING_RATES.items())
        + " (a new pooled head on a sentence encoder learns only with a larger one, docs/experiments/NOTEBOOK.md 1b, "
        "1f); an lmmlc model without such a head trains at --learning_rate alone."
    )

    def __post_init__(self) -> None:
        for option in ("learning_rate", "head_learning_rate"):
            rate = getattr(self, option)
            if rate is not None and not rate > 0:
                raise ValueError(f"--{option} {rate}: give a rate > 0, or leave it out (the default).")
        super().__post_init__()

    def resolve_learning_rates(self, model_type: str) -> None:
        """Fill the learning rates left out with `model_type`'s defaults (`LEARNING_RATES`, `HEAD_LEARNING_RATES`)."""
        if self.learning_rate is None:
            self.learning_rate = LEARNING_RATES.get(model_type, LEARNING_RATES["lmmlc"])
        if self.head_learning_rate is None and model_type != "lmmlc":  # lmmlc: only once its model has a head
            self.head_learning_rate = HEAD_LEARNING_RATES.get(model_type)


@dataclass
class LabelMaskArguments:
    """How training batches reveal labels, joint MLM and adversarial training."""

    reveal_strategy: str = _help("none (all masked), random or prefix.", "none")
    reveal_example_prob: float = _help("Share of training examples that reveal any label.", 0.5)
    min_revealed: int = _help("Fewest labels a revealing example shows.", 1)
    max_revealed: int | None = _help("Most labels a revealing example shows (default: all but one).")
    wrong_label_prob: float = _help("Probability that a revealed label shows the wrong value.", 0.01)
    mlm_probability: float = _help("Share of text tokens masked for joint MLM (0: off).", 0.0)
    mlm_epochs: float | None = _help("Joint MLM only during the first N epochs, then task-only.")
    mlm_steps: int | None = _help("Joint MLM only during the first N steps, then task-only.")
    fgm_epsilon: float = _help("FGM adversarial perturbation of the word embeddings (0: off).", 0.0)
    label_sample_size: int | None = _help(
        "Label stream: labels scored per training example (all positives + sampled negatives). "
        "Default: all labels when they fit one group, else one group (--label_group_size)."
    )
    label_negatives: str = _help(
        "With sampled labels: uniform (negatives drawn at random) or mixed (half the slots the positives and the "
        "negatives the label ranker ranks highest, as its shortlist holds them at inference; half uniform).",
        "uniform",
    )
