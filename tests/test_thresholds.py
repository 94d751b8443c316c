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


def test_cross_fitting_prefers_the_global_threshold_where_own_thresholds_fit_noise():
    from lmmlc.thresholds import choose_min_positives, cross_fitted_scores

    fitted = [cross_fitted_scores(*noisy_rare_labels(seed)) for seed in range(6)]
    chosen = [choose_min_positives(each) for each in fitted]
    assert sum(count >= 20 for count in chosen) >= 3  # 12 positives a label: from 20 up every label takes the global
    gain = [sum(each[float("inf")]) - sum(each[5]) for each in fitted]
    assert np.mean(gain) > 0.02


def test_cross_fitting_keeps_own_thresholds_where_labels_need_them():
    from lmmlc.thresholds import choose_min_positives, cross_fitted_scores

    rng = np.random.default_rng(0)
    references = (rng.random((2000, 2)) < 0.3).astype(int)  # ~600 positives each, separated at 0.2 and at 0.75
    probabilities = np.where(references == 1, [0.3, 0.9], [0.1, 0.6]) + rng.uniform(-0.05, 0.05, references.shape)
    scores = cross_fitted_scores(probabilities, references)
    assert choose_min_positives(scores) == 5 and scores[5][1] > scores[float("inf")][1] + 0.05


def test_cross_fitted_decisions_are_out_of_fold():
    from lmmlc.thresholds import cross_fitted_scores

    probabilities, references = noisy_rare_labels(0)
    _, macro = cross_fitted_scores(probabilities, references)[5]
    tuned = scores(probabilities, references, tune_label_thresholds(probabilities, references, fallback=0.5))
    assert macro < tuned["macro_f1"]  # thresholds never see the examples they decide
    with pytest.raises(ValueError, match="folds"):
        cross_fitted_scores(np.zeros((3, 1)), np.zeros((3, 1)), folds=5)


def test_ties_choose_the_smallest_count():
    from lmmlc.thresholds import choose_min_positives

    assert choose_min_positives({5: (0.4, 0.4), 10: (0.5, 0.5), float("inf"): (0.6, 0.4)}) == 10
