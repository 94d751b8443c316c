"""`DecodePlan` on a known joint distribution over 3 labels: rounds reveal each decision to the next round, so
what the later labels see is the exact conditional given the labels decided before them (hand-computed below)."""

import itertools

import pytest
import torch

from lmmlc.configuration_lmmlc import MASKED
from lmmlc.decoding_lmmlc import DecodePlan

SETS = list(itertools.product([0, 1], repeat=3))
# P(000), P(001), ..., P(111). Marginals: label 0 0.60, label 1 0.59, label 2 0.58.
AMBIGUOUS = [0.01, 0.0, 0.0, 0.39, 0.21, 0.19, 0.2, 0.0]


def exact_conditionals(joint: list[float]):
    """`probabilities(rows, state)` of a known joint distribution over 3 labels: P(label | the labels shown)."""
    table = torch.tensor(joint)
    values = torch.tensor(SETS)  # (8, 3)

    def probabilities(rows: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        agrees = ((state[:, None, :] == MASKED) | (state[:, None, :] == values[None])).all(dim=2)  # (rows, 8)
        weight = table[None] * agrees
        return (weight @ values.float()) / weight.sum(dim=1, keepdim=True)

    return probabilities


def decode(strategy: str, order: list[int] | None = None):
    ranks = None if order is None else torch.tensor(order).argsort()
    plan = DecodePlan(strategy, 1, torch.full((3,), 0.5), 0.0, ranks, None)
    return plan.run(exact_conditionals(AMBIGUOUS), 1, torch.device("cpu"))


def test_one_shot_decides_every_label_from_its_marginal():
    out = decode("one_shot")
    torch.testing.assert_close(out.probs[0], torch.tensor([0.60, 0.59, 0.58]))
    assert out.predictions[0].tolist() == [1, 1, 1] and out.rounds.tolist() == [1]


def test_confidence_reveals_the_most_certain_label_and_conditions_the_rest_on_it():
    # round 1: label 0 (0.60) YES; round 2 given 1xx: label 1 0.2/0.6, label 2 0.19/0.6 (more certain: NO);
    # round 3 given 1x0: label 1 0.2/0.41 -> NO
    out = decode("confidence")
    assert out.order[0].tolist() == [0, 2, 1] and out.rounds.tolist() == [3]
    assert out.predictions[0].tolist() == [1, 0, 0]
    torch.testing.assert_close(out.probs[0], torch.tensor([0.60, 0.2 / 0.41, 0.19 / 0.60]))


@pytest.mark.parametrize(("order", "expected"), [([2, 1, 0], [0, 1, 1]), ([0, 1, 2], [1, 0, 0])])
def test_fixed_order_conditions_each_label_on_the_ones_before_it(order, expected):
    # [2, 1, 0]: label 2 0.58 YES; given xx1: label 1 0.39/0.58 YES; given x11: label 0 0.0 NO
    out = decode("fixed", order)
    assert out.order[0].tolist() == order and out.predictions[0].tolist() == expected
