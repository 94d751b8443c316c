import numpy as np
import pytest

from lmmlc.metrics import binarize, multilabel_metrics
from lmmlc.thresholds import tune_global_threshold, tune_label_thresholds

from .conftest import noisy_rare_labels


def scores(probabilities, references, thresholds):
    return multilabel_metrics(binarize(probabilities, np.asarray(thresholds)), references)


@pytest.mark.parametrize("seed", range(8))
def test_tuning_never_lowers_the_tuned_metric_on_its_own_data(seed):
    rng = np.random.default_rng(seed)
    references = (rng.random((300, 6)) < rng.uniform(0.05, 0.5, 6)).astype(int)
    probabilities = np.clip(0.35 * references + rng.random((300, 6)) * 0.7, 0, 1)
    at_half = scores(probabilities, references, 0.5)
    best = tune_global_threshold(probabilities, references)
    at_best = scores(probabilities, references, best)
    per_label = scores(probabilities, references, tune_label_thresholds(probabilities, references))
    assert at_best["micro_f1"] >= at_half["micro_f1"]
    assert per_label["macro_f1"] >= max(at_best["macro_f1"], at_half["macro_f1"])


def test_tuning_finds_a_planted_threshold():
    references = np.array([[1], [1], [0], [0]] * 10)
    probabilities = np.where(references == 1, 0.3, 0.1).astype(float)
    assert 0.1 < tune_global_threshold(probabilities, references) <= 0.3
    assert 0.1 < tune_label_thresholds(probabilities, references)[0] <= 0.3
    assert scores(probabilities, references, 0.5)["micro_f1"] == 0


@pytest.mark.parametrize("probability", [0.0, 0.6])
def test_a_label_without_positives_gets_the_tie_threshold(probability):
    references = np.array([[1, 0], [0, 0], [1, 0]])
    probabilities = np.array([[0.9, probability], [0.2, probability], [0.8, probability]])
    # label 1: never true, so F1 = 0 at every threshold (never predicted either at 0.0): the tie rule picks 0.5
    assert tune_label_thresholds(probabilities, references)[1] == 0.5


def test_labels_without_validation_positives_take_the_fallback():
    import numpy as np

    from lmmlc.thresholds import tune_label_thresholds

    probabilities = np.array([[0.9, 0.7], [0.2, 0.6], [0.8, 0.1]])
    references = np.array([[1, 0], [0, 0], [1, 0]])
    assert tune_label_thresholds(probabilities, references, fallback=0.37, min_positives=1)[1] == 0.37
    assert tune_label_thresholds(probabilities, references)[1] == 0.5
    assert tune_label_thresholds(probabilities, references, fallback=0.37, min_positives=1)[0] != 0.37
    # two positives are too few for a threshold of its own by default (MIN_POSITIVES = 5)
    assert tune_label_thresholds(probabilities, references, fallback=0.37)[0] == 0.37
    assert tune_label_thresholds(probabilities, references, fallback=0.37, min_positives=2)[0] != 0.37


def test_shrinking_pulls_each_label_toward_the_global_threshold_by_its_positives():
    from lmmlc.thresholds import shrink_thresholds

    assert shrink_thresholds([0.2, 0.8], 0.5, np.array([10, 30]), 0.0) == [0.2, 0.8]
    halfway, mostly_own = shrink_thresholds([0.2, 0.8], 0.5, np.array([10, 30]), 10.0)
    assert halfway == pytest.approx(0.35) and mostly_own == pytest.approx(0.725)
    assert shrink_thresholds([0.2], 0.5, np.array([10]), 1e9)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="must be >= 0"):
        shrink_thresholds([0.2], 0.5, np.array([10]), -1.0)


def test_cross_validation_shrinks_labels_whose_own_thresholds_fit_noise():
    from lmmlc.thresholds import choose_shrinkage, cross_validated_macro_f1

    scores = [cross_validated_macro_f1(*noisy_rare_labels(seed)) for seed in range(6)]
    assert all(choose_shrinkage(each) > 0 for each in scores)
    assert np.mean([max(each.values()) - each[0.0] for each in scores]) > 0.01


def test_cross_validation_keeps_well_supported_labels_own_thresholds():
    from lmmlc.thresholds import choose_shrinkage, cross_validated_macro_f1

    rng = np.random.default_rng(0)
    references = (rng.random((2000, 2)) < 0.3).astype(int)  # ~600 positives each, separated at 0.2 and at 0.75
    probabilities = np.where(references == 1, [0.3, 0.9], [0.1, 0.6]) + rng.uniform(-0.05, 0.05, references.shape)
    scores = cross_validated_macro_f1(probabilities, references)
    assert choose_shrinkage(scores) < 50 and scores[0.0] > scores[500.0] + 0.05


def test_cross_validation_refuses_too_few_folds():
    from lmmlc.thresholds import cross_validated_macro_f1

    with pytest.raises(ValueError, match="folds"):
        cross_validated_macro_f1(np.zeros((3, 1)), np.zeros((3, 1)), folds=5)


def test_the_chosen_strength_is_the_weakest_of_the_best():
    from lmmlc.thresholds import choose_shrinkage

    assert choose_shrinkage({0.0: 0.4, 10.0: 0.5, 100.0: 0.5}) == 10.0


@pytest.mark.parametrize(
    ("given", "expected"), [("auto", "auto"), (" AUTO ", "auto"), ("0", 0.0), ("-0", 0.0), (20, 20.0)]
)
def test_shrinkage_option_forms(given, expected):
    from lmmlc.thresholds import parse_shrinkage

    assert parse_shrinkage(given) == expected


@pytest.mark.parametrize("given", ["nan", "inf", "-1", "some", None])
def test_bad_shrinkage_is_refused_with_the_accepted_forms(given):
    from lmmlc.thresholds import parse_shrinkage

    with pytest.raises(ValueError, match=r"give a strength >= 0 .* or auto"):
        parse_shrinkage(given)


def test_auto_with_fewer_examples_than_folds_keeps_own_thresholds():
    from lmmlc.thresholds import resolve_shrinkage

    assert resolve_shrinkage("auto", np.full((4, 2), 0.4), np.eye(4, 2, dtype=int)) == 0.0
    assert resolve_shrinkage("7", np.full((4, 2), 0.4), np.eye(4, 2, dtype=int)) == 7.0


def test_each_folds_thresholds_are_tuned_without_its_held_out_part(monkeypatch):
    from lmmlc import thresholds

    seen = []
    tune = thresholds.tune_global_threshold

    def spy(probabilities, references, grid):
        seen.append(set(np.round(probabilities[:, 0] * 1e6).astype(int)))
        return tune(probabilities, references, grid)

    probabilities, references = noisy_rare_labels(0, rows=200)
    probabilities[:, 0] = np.arange(200) / 1e3  # each example recognisable by its first score
    monkeypatch.setattr(thresholds, "tune_global_threshold", spy)
    thresholds.cross_validated_macro_f1(probabilities, references, folds=5)
    every = set(np.round(probabilities[:, 0] * 1e6).astype(int))
    left_out = [every - rows for rows in seen]
    assert len(seen) == 5 and all(len(part) == 40 for part in left_out)
    assert set().union(*left_out) == every  # the five held-out parts cover every example once
