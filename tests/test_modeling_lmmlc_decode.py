"""Decoding in rounds (`BertForLabelMaskClassification.decode`) and the text-once attention pattern."""

import math

import pytest
import torch

from .conftest import DECODE_TEXTS, inference_batch, is_permutation

TEXTS = DECODE_TEXTS


@pytest.mark.parametrize("strategy", ["one_shot", "confidence", "fixed", "random"])
def test_every_strategy_decides_every_label_once(sharp_model, tokenizer, strategy):
    model = sharp_model(decode_order=[3, 1, 0, 2])
    out = model.decode(**inference_batch(tokenizer, model.config), strategy=strategy, seed=0)
    assert out.probs.shape == out.predictions.shape == out.order.shape == (4, 4)
    assert is_permutation(out.order, 4)
    assert torch.equal(out.predictions, (out.probs >= 0.5).long())
    assert ((out.probs > 0) & (out.probs < 1)).all()


def test_one_shot_is_the_forward_pass(sharp_model, tokenizer):
    model = sharp_model()
    batch = inference_batch(tokenizer, model.config)
    out = model.decode(**batch, strategy="one_shot")
    assert torch.allclose(out.probs, torch.sigmoid(model(**batch).logits), atol=1e-6)
    assert out.rounds.tolist() == [1, 1, 1, 1]


def test_fixed_order_is_respected(sharp_model, tokenizer):
    model = sharp_model()
    out = model.decode(**inference_batch(tokenizer, model.config), strategy="fixed", order=[2, 0, 3, 1])
    assert out.order.tolist() == [[2, 0, 3, 1]] * 4
    assert out.rounds.tolist() == [4, 4, 4, 4]


def test_random_order_is_seeded(sharp_model, tokenizer):
    model = sharp_model()
    batch = inference_batch(tokenizer, model.config, TEXTS * 4)
    first, again = (model.decode(**batch, strategy="random", seed=5) for _ in range(2))
    other = model.decode(**batch, strategy="random", seed=6)
    assert torch.equal(first.order, again.order) and not torch.equal(first.order, other.order)
    assert len({tuple(row) for row in first.order.tolist()}) > 1  # one order per example


@pytest.mark.parametrize(("k", "rounds"), [(1, 4), (2, 2), (3, 2), (4, 1)])
def test_confidence_without_margin_decides_k_per_round(sharp_model, tokenizer, k, rounds):
    model = sharp_model()
    out = model.decode(**inference_batch(tokenizer, model.config), strategy="confidence", labels_per_round=k, margin=0)
    assert out.rounds.tolist() == [rounds] * 4
    assert rounds == math.ceil(4 / k)


def test_confidence_decides_the_most_certain_first_and_reveals_it(sharp_model, tokenizer):
    model = sharp_model()
    batch = inference_batch(tokenizer, model.config)
    first_round = torch.sigmoid(model(**batch).logits)
    out = model.decode(**batch, strategy="confidence", margin=0)
    certainty = (first_round - 0.5).abs()
    assert out.order[:, 0].tolist() == certainty.argmax(dim=1).tolist()
    first = out.order[:, 0]
    assert torch.allclose(out.probs.gather(1, first[:, None]), first_round.gather(1, first[:, None]))
    # later rounds see the decided labels: their probabilities differ from the first pass
    assert not torch.allclose(out.probs, first_round)


def test_confidence_margin_decides_sure_labels_at_once(sharp_model, tokenizer):
    model = sharp_model()
    batch = inference_batch(tokenizer, model.config)
    p = torch.sigmoid(model(**batch).logits)
    margin = 0.2
    sure = ((p <= margin) | (p >= 1 - margin)).sum(dim=1)
    out = model.decode(**batch, strategy="confidence", margin=margin)
    assert sure.max() > 1, "the fixture should give some sure labels"
    assert (out.rounds <= 4 - sure.clamp(max=3) + 1).all()
    assert (out.rounds < 4).any()


def test_thresholds_decide_revealed_values_and_predictions(sharp_model, tokenizer):
    model = sharp_model()
    batch = inference_batch(tokenizer, model.config)
    thresholds = [0.2, 0.4, 0.6, 0.8]
    out = model.decode(**batch, strategy="confidence", thresholds=thresholds, margin=0)
    assert torch.equal(out.predictions, (out.probs >= torch.tensor(thresholds)).long())
    model.config.label_thresholds = thresholds
    assert torch.equal(model.decode(**batch, strategy="confidence", margin=0).predictions, out.predictions)


@pytest.mark.parametrize("strategy", ["one_shot", "confidence", "random"])
def test_text_cache_matches_the_uncached_path(sharp_model, tokenizer, strategy):
    model = sharp_model(text_attends_labels=False, token_type_strategy="per_label")
    batch = inference_batch(tokenizer, model.config)
    cached = model.decode(**batch, strategy=strategy, seed=0, margin=0, use_text_cache=True)
    plain = model.decode(**batch, strategy=strategy, seed=0, margin=0, use_text_cache=False)
    assert torch.allclose(cached.probs, plain.probs, atol=1e-5)
    assert torch.equal(cached.order, plain.order)


@pytest.mark.parametrize("text_attends_labels", [True, False])
def test_a_batch_decodes_like_each_example_alone(sharp_model, tokenizer, text_attends_labels):
    model = sharp_model(text_attends_labels=text_attends_labels)
    together = model.decode(**inference_batch(tokenizer, model.config), strategy="confidence", margin=0.1)
    for i, text in enumerate(TEXTS):
        alone = model.decode(**inference_batch(tokenizer, model.config, [text]), strategy="confidence", margin=0.1)
        assert torch.allclose(alone.probs[0], together.probs[i], atol=1e-5)
        assert torch.equal(alone.order[0], together.order[i])


def test_plain_tokenizer_input_decodes(sharp_model, tokenizer):
    model = sharp_model()
    plain = model.decode(**tokenizer(TEXTS, padding=True, return_tensors="pt"), strategy="confidence")
    collated = model.decode(**inference_batch(tokenizer, model.config), strategy="confidence")
    assert torch.allclose(plain.probs, collated.probs, atol=1e-5)


@pytest.mark.parametrize("text_attends_labels", [True, False])
def test_text_blind_to_the_template_only_when_asked(sharp_model, tokenizer, text_attends_labels):
    model = sharp_model(text_attends_labels=text_attends_labels)
    batch = inference_batch(tokenizer, model.config)
    shown = dict(batch, input_ids=batch["input_ids"].scatter(1, batch["slot_positions"], model.config.yes_token_id))
    text = 1 + len(tokenizer("i love it")["input_ids"]) - 2  # [CLS] + the first text's tokens
    before = model(**batch, output_hidden_states=True).hidden_states[-1][0, :text]
    after = model(**shown, output_hidden_states=True).hidden_states[-1][0, :text]
    assert torch.allclose(before, after, atol=1e-6) is (not text_attends_labels)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strategy": "fixed", "order": [0, 1, 1, 2]}, "permutation"),
        ({"strategy": "fixed"}, "needs an order"),
        ({"labels_per_round": 0}, "labels_per_round must be >= 1"),
        ({"thresholds": [0.5, 0.5]}, "2 thresholds for 4 labels"),
        ({"thresholds": 1.5}, "strictly between 0 and 1"),
        ({"strategy": "greedy"}, "strategy='greedy'"),
        ({"margin": 0.5}, "margin must lie"),
        ({"use_text_cache": True}, "needs text_attends_labels=False"),
    ],
)
def test_bad_decoding_options_are_rejected(sharp_model, tokenizer, options, message):
    model = sharp_model(text_attends_labels=True)
    with pytest.raises(ValueError, match=message):
        model.decode(**inference_batch(tokenizer, model.config), **options)


def test_bad_config_order_is_rejected(make_model):
    with pytest.raises(ValueError, match="permutation"):
        make_model(decode_order=[0, 0, 1, 2])


@pytest.mark.slow
def test_confidence_beats_one_shot_where_labels_exclude_each_other(tmp_path):
    """Exactly one of a, b, c is true and its cue shows in half the texts: with no cue, each label
    alone is under 0.5 (one pass predicts none), while deciding one label settles the rest."""
    from benchmarks.synthetic import synthetic_data
    from benchmarks.synthetic_decoding import tiny_encoder, train_and_decode

    options = {"dependency": "exclusion", "group_size": 3, "free_labels": 0, "visibility": 0.5}
    train, names = synthetic_data(2000, seed=1, **options)
    test, _ = synthetic_data(1000, seed=2, **options)
    scores = train_and_decode(tiny_encoder(tmp_path / "bert"), train, test, names, seed=0, steps=800)
    one_shot, confidence = scores["one_shot"]["subset_accuracy"], scores["confidence"]["subset_accuracy"]
    assert one_shot < 0.6  # about the texts with a visible cue (0.5)
    assert confidence > one_shot + 0.08  # with no cue, the chosen label is right 1 time in 3 (+0.167 expected)


def test_text_cache_falls_back_and_says_so_where_its_assumptions_fail(sharp_model, tokenizer, caplog):
    """Relative position embeddings, and dropout in train mode: the cache would not equal the forward, so
    decode runs the whole sequence each round (and says so once) instead of a silently different result."""
    from transformers.utils import logging

    from lmmlc.decoding_lmmlc import text_cache_problem

    relative = sharp_model(text_attends_labels=False)
    relative.config.position_embedding_type = "relative_key"  # what a transformers 4.x BERT may be built with
    assert "absolute positions" in text_cache_problem(relative)
    batch = inference_batch(tokenizer, relative.config)
    logging.get_logger("transformers").propagate = True  # let caplog see the library's warning
    logging.enable_propagation()
    with caplog.at_level("WARNING"):
        cached = relative.decode(**batch, strategy="confidence", margin=0)
        relative.decode(**batch, strategy="confidence", margin=0)
    plain = relative.decode(**batch, strategy="confidence", margin=0, use_text_cache=False)
    assert torch.allclose(cached.probs, plain.probs, atol=1e-6) and torch.equal(cached.order, plain.order)
    assert sum("Decoding without the text cache" in r.getMessage() for r in caplog.records) == 1
    dropping = sharp_model(text_attends_labels=False, hidden_dropout_prob=0.1)
    assert text_cache_problem(dropping) is None  # eval mode: no dropout
    assert "train mode with dropout" in text_cache_problem(dropping.train())
    assert text_cache_problem(sharp_model(text_attends_labels=False)) is None


@pytest.mark.parametrize("text_attends_labels", [True, False])
def test_eager_attention_gives_the_sdpa_result(sharp_model, tokenizer, text_attends_labels):
    """The text-blind mask is built for both attention kernels: inverting it for eager would show here."""
    sdpa = sharp_model(text_attends_labels=text_attends_labels)
    eager = sharp_model(text_attends_labels=text_attends_labels, attn_implementation="eager")
    eager.load_state_dict(sdpa.state_dict())
    assert eager.config._attn_implementation == "eager" and sdpa.config._attn_implementation == "sdpa"
    batch = inference_batch(tokenizer, sdpa.config)  # texts of different lengths: padding is masked too
    with torch.no_grad():
        assert torch.allclose(eager(**batch).logits, sdpa(**batch).logits, atol=1e-5)
    cached = eager.decode(**batch, strategy="confidence", margin=0)
    plain = eager.decode(**batch, strategy="confidence", margin=0, use_text_cache=False)
    assert torch.allclose(cached.probs, plain.probs, atol=1e-5)


def test_confidence_orders_by_distance_from_the_threshold_scaled_to_its_side(make_model):
    """Certainty is |p - t| / t below the threshold and (p - t) / (1 - t) above it. These probabilities order
    differently by certainty [1, 0, 2, 3], by probability [2, 0, 3, 1] and by plain |p - t| [1, 0, 3, 2]."""
    from lmmlc.decoding_lmmlc import DecodePlan

    config = make_model().config
    p = torch.tensor([[0.9, 0.02, 0.96, 0.3]])
    plan = DecodePlan.build(config, "confidence", 1, None, [0.5, 0.5, 0.9, 0.5], None, 0.0)
    seen = []

    def probabilities(rows, state):
        seen.append(state.clone())
        return p[rows]

    out = plan.run(probabilities, 1, torch.device("cpu"))
    assert out.order.tolist() == [[1, 0, 2, 3]] and out.rounds.tolist() == [4]
    assert out.predictions.tolist() == [[1, 0, 1, 0]]
    # each round shows the labels decided before it: YES (1) / NO (0), the rest masked (-1)
    assert [s.tolist() for s in seen] == [[[-1, -1, -1, -1]], [[-1, 0, -1, -1]], [[1, 0, -1, -1]], [[1, 0, 1, -1]]]
