import evaluate
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, jaccard_score

from lmmlc.metrics import METRIC_MODULE, binarize, multilabel_metrics


@pytest.mark.parametrize("seed", range(5))
def test_evaluate_module_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    probabilities = rng.random((200, 7))
    references = (rng.random((200, 7)) < 0.3).astype(int)
    thresholds = rng.uniform(0.2, 0.8, 7)
    got = evaluate.load(METRIC_MODULE).compute(
        predictions=probabilities, references=references, threshold=thresholds.tolist()
    )
    predicted = (probabilities >= thresholds).astype(int)
    assert got["subset_accuracy"] == pytest.approx(accuracy_score(references, predicted))
    assert got["micro_f1"] == pytest.approx(f1_score(references, predicted, average="micro"))
    assert got["macro_f1"] == pytest.approx(f1_score(references, predicted, average="macro"))
    assert got["jaccard"] == pytest.approx(jaccard_score(references, predicted, average="samples", zero_division=1))
    assert got["hamming_loss"] == pytest.approx(hamming_loss(references, predicted))
    assert got["hamming_score"] == pytest.approx(1 - hamming_loss(references, predicted))


def test_metrics_by_hand():
    references = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]])
    predictions = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]])
    got = multilabel_metrics(predictions, references)
    assert got["subset_accuracy"] == pytest.approx(2 / 3)
    assert got["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 0 + 1))
    assert got["macro_f1"] == pytest.approx((1 + 1 + 0) / 3)  # the third label: one miss
    assert got["jaccard"] == pytest.approx((1 / 2 + 1 + 1) / 3)  # nothing true, nothing predicted: 1
    assert got["hamming_loss"] == pytest.approx(1 / 9)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="must be equal 2-D shapes"):
        multilabel_metrics(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="3 thresholds for 2 labels"):
        binarize(np.zeros((1, 2)), [0.5, 0.5, 0.5])
