import evaluate
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, jaccard_score, ndcg_score

from lmmlc.metrics import METRIC_MODULE, RANKING_METRIC_NAMES, binarize, multilabel_metrics, ranking_metrics

# Ranked by score (ties in label order): example 0 -> labels 0, 2, 3, 4, 1 (hits at ranks 1 and 3);
# example 1 -> 4, then the tie 0, 1, 2, then 3 (its one true label, 2, at rank 4); example 2 has no true label.
SCORES = np.array([[0.9, 0.1, 0.8, 0.3, 0.2], [0.5, 0.5, 0.5, 0.1, 0.7], [0.2, 0.4, 0.6, 0.8, 1.0]])
REFERENCES = np.array([[1, 0, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]])


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
    assert {k: got[k] for k in RANKING_METRIC_NAMES} == pytest.approx(ranking_metrics(probabilities, references))


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


def test_macro_f1_counts_a_label_never_true_nor_predicted_as_zero():
    references = np.array([[1, 0], [0, 0]])
    got = multilabel_metrics(references, references)
    assert got["macro_f1"] == pytest.approx((1 + 0) / 2)
    assert got["macro_f1"] == pytest.approx(f1_score(references, references, average="macro", zero_division=0))


def test_ranking_metrics_by_hand():
    got = ranking_metrics(SCORES, REFERENCES)
    assert list(got) == list(RANKING_METRIC_NAMES)
    # P@k over all 3 examples, hits / k: ex0 hits@1,3,5 = 1, 2, 2; ex1 = 0, 0, 1; ex2 = 0.
    assert got["p@1"] == pytest.approx((1 / 1 + 0 + 0) / 3)  # 1/3
    assert got["p@3"] == pytest.approx((2 / 3 + 0 + 0) / 3)  # 2/9
    assert got["p@5"] == pytest.approx((2 / 5 + 1 / 5 + 0) / 3)  # 1/5
    # R@k over the 2 examples with a true label, hits / #true (ex0: 2 true, ex1: 1 true).
    assert got["r@1"] == pytest.approx((1 / 2 + 0) / 2)  # 1/4
    assert got["r@3"] == pytest.approx((2 / 2 + 0) / 2)  # 1/2
    assert got["r@5"] == pytest.approx((2 / 2 + 1 / 1) / 2)  # 1
    # nDCG: ex0 DCG = 1/log2(2) + 1/log2(4) = 3/2, IDCG@3 = 1 + 1/log2(3); ex1 DCG@5 = 1/log2(5), IDCG = 1.
    assert got["ndcg@1"] == pytest.approx((1 / 1 + 0) / 2)  # 1/2
    assert got["ndcg@3"] == pytest.approx((3 / 2 / (1 + 1 / np.log2(3)) + 0) / 2)
    assert got["ndcg@5"] == pytest.approx((3 / 2 / (1 + 1 / np.log2(3)) + 1 / np.log2(5)) / 2)


def test_ranking_metrics_beyond_the_number_of_labels():
    got = ranking_metrics(SCORES, REFERENCES, ks=(5, 7))
    assert got["p@7"] == pytest.approx((2 / 7 + 1 / 7 + 0) / 3)  # still divided by k
    assert got["r@7"] == got["r@5"] == 1.0
    assert got["ndcg@7"] == pytest.approx(got["ndcg@5"])


def test_ranking_metrics_without_any_true_label():
    got = ranking_metrics(SCORES, np.zeros_like(REFERENCES))
    assert got == {name: 0.0 for name in RANKING_METRIC_NAMES}


@pytest.mark.parametrize("seed", range(3))
def test_ndcg_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((100, 12))  # continuous: no ties, where scikit-learn averages over tied orders
    references = (rng.random((100, 12)) < 0.25).astype(int)
    references[0] = 0  # scikit-learn scores such an example 0; ranking_metrics leaves it out
    got = ranking_metrics(scores, references, ks=(1, 3, 5, 20))
    relevant = references.sum(axis=1) > 0
    for k in (1, 3, 5, 20):
        assert got[f"ndcg@{k}"] == pytest.approx(ndcg_score(references[relevant], scores[relevant], k=k))


@pytest.mark.parametrize(
    ("scores", "references", "match"),
    [
        (np.zeros((2, 3)), np.zeros((2, 4)), "must be equal, non-empty 2-D shapes"),
        (np.zeros(3), np.zeros(3), "must be equal, non-empty 2-D shapes"),
        (np.zeros((0, 3)), np.zeros((0, 3)), "must be equal, non-empty 2-D shapes"),
    ],
)
def test_ranking_metrics_reject_bad_shapes(scores, references, match):
    with pytest.raises(ValueError, match=match):
        ranking_metrics(scores, references)


def test_ranking_metrics_reject_bad_cutoffs():
    with pytest.raises(ValueError, match="positive cut-offs"):
        ranking_metrics(SCORES, REFERENCES, ks=(0, 3))
