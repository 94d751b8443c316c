"""Beam decoding (`DecodePlan` with strategy "beam"): beam 1 is confidence decoding, a wide beam finds the
joint mode, and it beats greedy rounds where the most certain label leads the wrong way."""

import itertools

import pytest
import torch

from lmmlc.configuration_lmmlc import MASKED
from lmmlc.decoding_lmmlc import DecodePlan

from .conftest import inference_batch, is_permutation

SETS = list(itertools.product([0, 1], repeat=3))


def exact_conditionals(joint: list[float]):
    """`probabilities(rows, state)` of a known joint distribution over 3 labels: P(label | the labels shown)."""
    table = torch.tensor(joint)
    values = torch.tensor(SETS)  # (8, 3)

    def probabilities(rows: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        agrees = ((state[:, None, :] == MASKED) | (state[:, None, :] == values[None])).all(dim=2)  # (rows, 8)
        weight = table[None] * agrees
        return (weight @ values.float()) / weight.sum(dim=1, keepdim=True)

    return probabilities


def decode(joint: list[float], strategy: str, beam_size: int = 1, margin: float = 0.0):
    plan = DecodePlan(strategy, 1, torch.full((3,), 0.5), margin, None, None, beam_size)
    return plan.run(exact_conditionals(joint), 1, torch.device("cpu"))


def decide(joint: list[float], strategy: str, beam_size: int = 1, margin: float = 0.0) -> tuple[int, ...]:
    return tuple(decode(joint, strategy, beam_size, margin).predictions[0].tolist())


# P(000), P(001), ..., P(111): the mode is 011 (0.39); label 0 is the most certain at first (0.6 YES), which
# sends greedy rounds to 100/101/110 (about 0.2 each).
AMBIGUOUS = [0.01, 0.0, 0.0, 0.39, 0.21, 0.19, 0.2, 0.0]


def test_beam_finds_the_mode_where_greedy_rounds_do_not():
    confidence, beam = decide(AMBIGUOUS, "confidence"), decide(AMBIGUOUS, "beam", beam_size=2)
    assert beam == (0, 1, 1)
    assert AMBIGUOUS[SETS.index(beam)] > AMBIGUOUS[SETS.index(confidence)] + 0.15  # expected subset accuracy


def test_a_label_decided_against_its_probability_reports_the_decided_side():
    out = decode(AMBIGUOUS, "beam", beam_size=2)  # label 0: P = 0.6 when decided, decided NO
    assert out.predictions[0, 0] == 0 and out.probs[0, 0] < 0.5
    assert torch.equal(out.predictions, (out.probs >= 0.5).long())


@pytest.mark.parametrize("seed", range(5))
def test_a_beam_of_every_assignment_returns_the_joint_mode(seed):
    joint = (torch.rand(8, generator=torch.Generator().manual_seed(seed)) ** 3).tolist()
    assert decide(joint, "beam", beam_size=8) == SETS[max(range(8), key=joint.__getitem__)]


@pytest.mark.parametrize("seed", range(5))
def test_beam_one_is_greedy_confidence_on_known_distributions(seed):
    joint = torch.rand(8, generator=torch.Generator().manual_seed(seed)).tolist()
    assert decide(joint, "beam", beam_size=1, margin=0.1) == decide(joint, "confidence", margin=0.1)


@pytest.mark.parametrize(
    "options", [{}, {"text_attends_labels": True}, {"label_stream": True, "prompt_tokens_before": 1}]
)
def test_beam_one_equals_confidence_decoding_of_a_model(sharp_model, tokenizer, options):
    model = sharp_model(**options)
    batch = inference_batch(tokenizer, model.config)
    thresholds = [0.3, 0.5, 0.6, 0.45]
    greedy = model.decode(**batch, strategy="confidence", thresholds=thresholds)
    beam = model.decode(**batch, strategy="beam", beam_size=1, thresholds=thresholds)
    for name in ("probs", "predictions", "order", "rounds"):
        assert torch.equal(getattr(beam, name), getattr(greedy, name)), name


def test_beam_of_a_model_decides_every_label_once_and_reports_consistent_probabilities(sharp_model, tokenizer):
    model = sharp_model(text_attends_labels=False)
    batch = inference_batch(tokenizer, model.config)
    out = model.decode(**batch, strategy="beam", beam_size=4, margin=0.0, thresholds=0.5)
    assert is_permutation(out.order, 4)
    assert torch.equal(out.predictions, (out.probs >= 0.5).long())  # a label decided against its probability too


def test_beam_size_below_one_is_refused(sharp_model, tokenizer):
    model = sharp_model()
    with pytest.raises(ValueError, match="beam size must be >= 1"):
        model.decode(**inference_batch(tokenizer, model.config), strategy="beam", beam_size=0)
    with pytest.raises(ValueError, match="beam size must be >= 1"):
        type(model.config)(label_names=["a"], decode_beam_size=0)


# label 1 is surely NO and label 2 surely YES (margin 0.15); label 0 is YES alone (0.52) but NO given label 2 (0.49).
SURE_THEN_FLIP = [0.02, 0.46, 0.0, 0.0, 0.08, 0.44, 0.0, 0.0]


def test_certain_shows_only_the_sure_labels_then_decides_the_rest_in_one_more_round():
    out = decode(SURE_THEN_FLIP, "certain", margin=0.15)
    assert out.rounds.tolist() == [2] and sorted(out.order[0, :2].tolist()) == [1, 2] and out.order[0, 2] == 0
    assert out.predictions[0].tolist() == [0, 0, 1]
    torch.testing.assert_close(out.probs[0, 0], torch.tensor(0.44 / 0.90))
    assert decide(SURE_THEN_FLIP, "one_shot", margin=0.15) == (1, 0, 1)


def test_certain_is_one_pass_when_no_label_is_sure():
    out = decode(AMBIGUOUS, "certain", margin=0.0)
    assert out.rounds.tolist() == [1] and decide(AMBIGUOUS, "certain") == decide(AMBIGUOUS, "one_shot")


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.8])
def test_certain_decodes_the_same_probabilities_at_any_threshold_inside_the_margin(threshold):
    plan = DecodePlan("certain", 1, torch.full((3,), threshold), 0.15, None, None)
    out = plan.run(exact_conditionals(SURE_THEN_FLIP), 1, torch.device("cpu"))
    torch.testing.assert_close(out.probs, decode(SURE_THEN_FLIP, "certain", margin=0.15).probs)
