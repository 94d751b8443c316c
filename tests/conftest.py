"""Tiny in-memory BERT checkpoints shared by the tests (built once per session)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from lmmlc import DataCollatorForLabelMask
from lmmlc.data import BUNDLED_DATA, open_data_file, split_files
from lmmlc.testing import write_tiny_bert

WORDS = [
    "yes",
    "no",
    "i",
    "love",
    "it",
    "so",
    "angry",
    "about",
    "this",
    "thing",
    "sad",
    "happy",
    "joy",
    "anger",
    "fear",
    "the",
    "a",
    "cs",
    "it",
    "math",
    "st",
    "stat",
    "th",
]
LABELS = ["joy", "anger", "fear", "cs.it"]
BLOCK_LMMLC = textwrap.dedent(
    """
    import sys

    class BlockLmmlc:
        def find_spec(self, name, path=None, target=None):
            if name == "lmmlc" or name.startswith("lmmlc."):
                raise ImportError("lmmlc is blocked in this process")

    sys.meta_path.insert(0, BlockLmmlc())
    """
)
"""Start of a subprocess script in which `import lmmlc` fails: only remote code can serve the model."""


def write_plain_bert(folder: Path, unused: int, max_positions: int = 64) -> Path:
    """The tiny random BERT of the tests, over WORDS."""
    return write_tiny_bert(folder, WORDS, unused=unused, max_positions=max_positions)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets: `$LMMLC_DATA_DIR`, else `../shared/data` beside the checkout (as in CI), else the
    repository's `data/` (GoEmotions only, compressed: tests of other data sets skip there)."""
    given = os.environ.get("LMMLC_DATA_DIR")
    sibling = Path(__file__).parents[2] / "shared" / "data"
    folder = Path(given) if given else sibling if (sibling / "goemotions").is_dir() else BUNDLED_DATA.parent
    if not (folder / "goemotions" / "labels.txt").exists():
        raise FileNotFoundError(f"No datasets at {folder}: set LMMLC_DATA_DIR or put shared/ beside the checkout.")
    return folder


def data_set(shared_data: Path, name: str) -> Path:
    """`shared_data / name`, or a skip naming what is missing (only GoEmotions ships with the repository)."""
    folder = shared_data / name
    if not folder.is_dir():
        pytest.skip(f"{name} is not in {shared_data}: put shared/ beside the checkout or set LMMLC_DATA_DIR.")
    return folder


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain tiny BERT whose vocab has 60 `[unusedN]` slots."""
    return write_plain_bert(tmp_path_factory.mktemp("bert"), unused=60)


@pytest.fixture(scope="session")
def bert_dir_no_unused(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain tiny BERT whose vocab has no `[unusedN]` slots."""
    return write_plain_bert(tmp_path_factory.mktemp("bert_no_unused"), unused=0)


@pytest.fixture(scope="session")
def tokenizer(bert_dir: Path) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(bert_dir)


@pytest.fixture
def make_model(bert_dir: Path):
    """Warm-start a label-mask model on the tiny BERT: `make_model(**config_options)`. A single-sequence model
    unless the test asks for the stream (`label_stream=True`; the stream is the shipped default)."""
    from lmmlc import BertForLabelMaskClassification

    def make(labels: list[str] = LABELS, **options):
        torch.manual_seed(0)
        options.setdefault("label_stream", False)
        return BertForLabelMaskClassification.from_encoder(bert_dir, label_names=labels, **options)

    return make


PAPER = {"prompt_tokens_before": 1, "prompt_tokens_after": 1, "mask_mode": "shared", "text_attends_labels": True}
"""The paper's template and attention (the defaults before docs/benchmarks/defaults.md): tests of prompt tokens and of
the shared [MASK] name them."""


def slice_data(shared_data: Path, folder: Path, rows: int = 48) -> Path:
    """The first rows of each GoEmotions split, with its labels.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    source = shared_data / "goemotions"
    (folder / "labels.txt").write_text((source / "labels.txt").read_text())
    for split, path in split_files(source).items():  # .jsonl in ../shared, .jsonl.gz as shipped
        with open_data_file(path) as handle:
            lines = handle.read().decode("utf-8").splitlines()[:rows]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def tiny_run_args(data: Path, output: Path, *extra: str) -> list[str]:
    """`lmmlc-train` options of a 3-step run on the bundled MiniLM."""
    options = {
        "data_dir": data,
        "output_dir": output,
        "max_steps": 3,
        "per_device_train_batch_size": 8,
        "per_device_eval_batch_size": 16,
        "learning_rate": 1e-4,
        "report_to": "none",
        "save_strategy": "no",
        "logging_steps": 1,
        "seed": 0,
    }
    return [item for key, value in options.items() for item in (f"--{key}", str(value))] + list(extra)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, Path]:
    """A 3-step label-mask run with scheduled joint MLM on a GoEmotions slice: (data folder, model folder). A
    single-sequence model (its tests decode in rounds, which the compact default stream refuses)."""
    from lmmlc.training import main

    base = tmp_path_factory.mktemp("run")
    data = slice_data(shared_data, base / "data")
    mlm = ["--mlm_probability", "0.15", "--mlm_loss_weight", "0.5", "--mlm_steps", "2", "--max_eval_samples", "32"]
    main(tiny_run_args(data, base / "model", *mlm, "--label_stream", "false"))
    return data, base / "model"


def scored_by_sklearn(model_folder: Path, data_folder: Path, split: str = "test", limit: int | None = None) -> dict:
    """The saved model's predictions on a split, scored by scikit-learn (independent of lmmlc.metrics) at the
    model's own global and per-label thresholds: micro-F1, subset accuracy, per-label F1."""
    import datasets
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score

    from lmmlc.configuration_lmmlc import label_names_of
    from lmmlc.evaluation import load_trained, predict_dataset
    from lmmlc.tokenization import encode_dataset

    model, tokenizer = load_trained(str(model_folder))
    rows = datasets.Dataset.from_json(str(data_folder / f"{split}.jsonl"))
    rows = rows if limit is None else rows.select(range(min(limit, len(rows))))
    encoded = encode_dataset(rows, tokenizer, model.config, label_names_of(model.config))
    probabilities, truth = predict_dataset(model, tokenizer, encoded, progress=False), np.asarray(encoded["labels"])
    config, scores = model.config, {}
    for setting, thresholds in (("global", config.threshold), ("per_label", config.label_thresholds)):
        predicted = (probabilities >= np.asarray(thresholds)).astype(int)
        scores[f"micro_f1@{setting}"] = f1_score(truth, predicted, average="micro", zero_division=0)
        scores[f"subset_accuracy@{setting}"] = accuracy_score(truth, predicted)
        scores[f"per_label_f1@{setting}"] = f1_score(truth, predicted, average=None, zero_division=0).tolist()
    return scores


DECODE_TEXTS = ["i love it", "so angry about this thing here", "sad", "happy joy the a it so"]


@pytest.fixture
def sharp_model(make_model):
    """A tiny model with scaled-up random weights, so its probabilities spread over (0, 1)."""

    def make(**options):
        model = make_model(**options).eval()
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.5)
        return model

    return make


def inference_batch(tokenizer, config, texts=DECODE_TEXTS):
    return DataCollatorForLabelMask(tokenizer, config)([tokenizer(t) for t in texts])


def is_permutation(rows, n):
    return all(sorted(row) == list(range(n)) for row in rows.tolist())


def noisy_rare_labels(seed: int, rows: int = 1200, labels: int = 12, positives: int = 12):
    """Labels scored alike (one threshold serves them all), each with few positives: its own tuned threshold fits
    noise."""
    rng = np.random.default_rng(seed)
    references = np.zeros((rows, labels), dtype=int)
    for label in range(labels):
        references[rng.choice(rows, positives, replace=False), label] = 1
    probabilities = np.clip(np.where(references == 1, 0.55, 0.3) + rng.normal(0, 0.12, references.shape), 0, 1)
    return probabilities, references
