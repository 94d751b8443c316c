"""`benchmarks/anchors.py`: each anchor's score shapes and label order, the metric keys, tuning on validation only."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import anchors
from benchmarks.anchors import (
    evaluate_anchor,
    fasttext_ova,
    fasttext_text,
    frozen_embedding_logreg,
    label_matrix,
    linear_ovr,
    load_splits,
)
from lmmlc import thresholds
from lmmlc.evaluation import THRESHOLD_SETTINGS
from lmmlc.metrics import METRIC_NAMES, RANKING_METRIC_NAMES

from .conftest import data_set

# label order unlike sorted order, names with '-', '.' and a space, one label never in train
NAMES = ["sport.ball", "food-dish", "never seen"]
TOPICS = {"sport.ball": "football match goal team", "food-dish": "pizza pasta dinner recipe"}


def topic_split(rows: int) -> list[dict]:
    """Texts of one topic (its label) or both; the topic words repeat with small variations."""
    examples = []
    for i in range(rows):
        labels = [["sport.ball"], ["food-dish"], ["sport.ball", "food-dish"]][i % 3]
        words = " ".join(TOPICS[name] for name in labels)
        examples.append({"text": f"{words} number {i % 5}\nnew line", "labels": labels})
    return examples


@pytest.fixture(scope="module")
def topics():
    return topic_split(60), topic_split(9), topic_split(9)


@pytest.fixture(scope="module")
def aapd(shared_data):
    """60 train / 20 validation / 20 test examples of aapd-small (54 labels, many never positive here)."""
    splits, names = load_splits(data_set(shared_data, "aapd-small"))
    return splits["train"][:60], splits["validation"][:20], splits["test"][:20], names


def check_topic_scores(scores: anchors.AnchorScores, never_seen_max: float) -> None:
    """Shapes in label order, scores in [0, 1], each topic's own label above the other's."""
    for split in (scores.validation, scores.test):
        assert split.shape == (9, 3) and np.all((split >= 0) & (split <= 1))
        sport, food = split[0::3], split[1::3]  # rows 0, 3, ...: sport only; rows 1, 4, ...: food only
        assert np.all(sport[:, 0] > sport[:, 1]) and np.all(food[:, 1] > food[:, 0])
        assert np.all(split[:, 2] <= never_seen_max)
    assert scores.train_seconds > 0 and scores.train_examples_per_second == pytest.approx(60 / scores.train_seconds)


def test_linear_ovr_label_order(topics):
    pytest.importorskip("libmultilabel")
    check_topic_scores(linear_ovr(*topics, NAMES), never_seen_max=0.5)  # sigmoid of a negative decision value


def test_fasttext_ova_label_order(topics):
    pytest.importorskip("fasttext")
    check_topic_scores(fasttext_ova(*topics, NAMES, epoch=50, lr=0.5), never_seen_max=0.0)


def test_fasttext_is_reproducible_with_a_seed(topics):
    pytest.importorskip("fasttext")
    first, second = (fasttext_ova(*topics, NAMES, epoch=5, seed=3) for _ in range(2))
    np.testing.assert_array_equal(first.test, second.test)


def test_fasttext_text_is_one_line_without_label_markers():
    assert fasttext_text("Hello, World!\nBye __label__x") == "hello , world ! bye x"


def test_logreg_constant_labels_and_a_single_varying_one(bert_dir):
    names = ["always", "happy", "never"]
    happy, angry = {"text": "i love it so happy joy", "labels": ["always", "happy"]}, {"text": "so angry", "labels": []}
    train = [happy, {**angry, "labels": ["always"]}] * 10
    scores = frozen_embedding_logreg(train, [happy, angry], [angry, happy], names, model_path=bert_dir, batch_size=7)
    for split in (scores.validation, scores.test):
        assert split.shape == (2, 3)
        assert np.all(split[:, 0] == 1) and np.all(split[:, 2] == 0)
        assert np.all((split[:, 1] > 0) & (split[:, 1] < 1))
    assert scores.validation[0, 1] > scores.validation[1, 1] and scores.test[1, 1] > scores.test[0, 1]


def test_fasttext_scores_map_labels_and_remove_the_log_offset():
    def predict(text, k, threshold, on_unicode_error):  # fastText returns p + 1e-5, in its own order
        assert (text, k, threshold, on_unicode_error) == ("a , b\n", 3, 0.0, "strict")
        return [(1.00001, "__label__2"), (0.00001, "__label__0")]

    model = SimpleNamespace(f=SimpleNamespace(predict=predict))
    np.testing.assert_allclose(anchors._fasttext_scores(model, ["A, b"], 3), [[0.0, 0.0, 1.0]], atol=1e-12)


@pytest.mark.slow
def test_logreg_on_minilm_label_order(topics):
    check_topic_scores(frozen_embedding_logreg(*topics, NAMES), never_seen_max=0.0)


@pytest.mark.parametrize(
    "anchor",
    [
        pytest.param(linear_ovr, id="linear"),
        pytest.param(fasttext_ova, id="fasttext"),
        pytest.param(frozen_embedding_logreg, id="logreg", marks=pytest.mark.slow),
    ],
)
def test_every_metric_on_an_aapd_slice(aapd, anchor):
    pytest.importorskip({linear_ovr: "libmultilabel", fasttext_ova: "fasttext"}.get(anchor, "sklearn"))
    train, validation, test, names = aapd
    scores = anchor(train, validation, test, names)
    assert scores.validation.shape == (20, 54) and scores.test.shape == (20, 54)
    y_val, y_test = label_matrix(validation, names), label_matrix(test, names)
    results = evaluate_anchor(scores.validation, y_val, scores.test, y_test)
    expected = {f"test_{metric}@{setting}" for metric in METRIC_NAMES for setting in THRESHOLD_SETTINGS}
    expected |= {f"test_{metric}" for metric in RANKING_METRIC_NAMES} | {"global_threshold"}
    assert set(results) == expected
    assert all(np.isfinite(value) for value in results.values())


def planted(positive: float, negative: float) -> tuple[np.ndarray, np.ndarray]:
    """Two labels, 4 examples: each true label scored `positive`, each false one `negative`."""
    references = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    return np.where(references == 1, positive, negative), references


def test_thresholds_are_tuned_on_validation_not_test():
    # validation separates at (0.1, 0.3]; test only at (0.6, 0.8]: tuned on test, every F1 would be 1
    scores_val, y_val = planted(0.3, 0.1)
    scores_test, y_test = planted(0.8, 0.6)
    results = evaluate_anchor(scores_val, y_val, scores_test, y_test)
    assert results["global_threshold"] == 0.3
    assert results["test_micro_f1@global"] < 1 and results["test_macro_f1@per_label"] < 1
    assert results["test_micro_f1@0.5"] < 1  # 0.5 is below every test score as well


def test_per_label_thresholds_fit_each_label():
    # label 0 separates at (0.1, 0.3], label 1 at (0.6, 0.9]: no single threshold fits both
    references = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 3)  # 6 positives each: enough for their own
    scores = np.where(references == 1, [0.3, 0.9], [0.1, 0.6])
    results = evaluate_anchor(scores, references, scores, references)
    assert results["test_macro_f1@per_label"] == 1 and results["test_micro_f1@global"] < 1


def test_tuning_functions_only_see_validation(monkeypatch):
    seen = []

    def spy(tune):
        def wrapped(probabilities, references, *args, **options):
            seen.append((probabilities, references))
            return tune(probabilities, references, *args, **options)

        return wrapped

    for name in ("tune_global_threshold", "tune_label_thresholds"):  # what `training.tune_thresholds` calls
        monkeypatch.setattr(thresholds, name, spy(getattr(thresholds, name)))
    scores_val, y_val = planted(0.3, 0.1)
    scores_test, y_test = planted(0.8, 0.6)
    evaluate_anchor(scores_val, y_val, scores_test, y_test)
    assert len(seen) == 2 and all(s is scores_val and y is y_val for s, y in seen)


def test_run_anchor_writes_scores_and_metrics(tmp_path, aapd):
    pytest.importorskip("fasttext")
    *splits, names = aapd
    (tmp_path / "labels.txt").write_text("\n".join(names) + "\n")
    for split, examples in zip(("train", "validation", "test"), splits, strict=True):
        (tmp_path / f"{split}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in examples))
    result = anchors.run_anchor("fasttext", tmp_path, scores_file=tmp_path / "scores.npz")
    saved = np.load(tmp_path / "scores.npz")
    assert saved["validation"].shape == (20, 54) and saved["test"].shape == (20, 54)
    assert result["anchor"] == "fasttext" and 0 <= result["test_micro_f1@global"] <= 1 and result["train_seconds"] > 0
