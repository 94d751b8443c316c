import numpy as np
import pytest

from lmmlc.metrics import binarize, multilabel_metrics
from lmmlc.thresholds import tune_global_threshold, tune_label_thresholds


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
