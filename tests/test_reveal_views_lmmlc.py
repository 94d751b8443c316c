import pytest
import torch

from lmmlc import DataCollatorForLabelMask, LabelMaskConfig
from lmmlc.losses_lmmlc import multilabel_loss
from lmmlc.reveal_views_lmmlc import choose_rows, choose_soft_rows, self_conditioned_state, soft_beliefs

TEXTS = ["i love it", "so angry about this thing the a", "sad", "happy joy"]
ROWS = [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]
STREAM = {"label_stream": True, "prompt_tokens_before": 1}  # prompt tokens name revealed labels in the stream


def features(tokenizer):
    return [{**tokenizer(t), "labels": r} for t, r in zip(TEXTS, ROWS, strict=True)]


def test_self_conditioned_state_reveals_the_models_most_certain_decisions():
    logits = torch.tensor([[3.0, -0.1, -4.0, 0.5], [1.0, 2.0, -3.0, 0.2], [0.3, -2.0, 1.0, 0.0]])
    state = torch.tensor([[1, 0, -1, -1], [-1, 1, -1, -1], [0, -1, -1, -1]])
    truth = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 0]])
    rows = torch.tensor([True, True, False])
    new, targets = self_conditioned_state(logits, state, truth, rows)
    assert new.tolist() == [[1, -1, 0, -1], [-1, -1, 0, -1], [0, -1, -1, -1]]  # 2 and 1 most certain; row 3 kept
    assert new[:2][new[:2] >= 0].tolist() == (logits[:2][new[:2] >= 0] >= 0).long().tolist()  # own decisions
    assert targets.tolist() == [[-100, 1, -100, 0], [0, 1, -100, 0], [-100, 0, 0, 0]]  # truth wherever masked


def test_rows_are_drawn_among_revealing_examples_only():
    state = torch.tensor([[1, -1], [-1, -1], [0, 1]])
    assert choose_rows(state, 1.0).tolist() == [True, False, True]
    assert not choose_rows(state, 0.0).any()


def test_collator_gives_the_truth_of_revealed_slots_only_when_a_view_needs_it(make_model, tokenizer):
    config = make_model(**STREAM, all_masked_loss_weight=1.0).config
    collate = DataCollatorForLabelMask(
        tokenizer, config, reveal_strategy="random", reveal_example_prob=1.0, wrong_label_prob=1.0, seed=0
    )
    batch = collate(features(tokenizer))
    assert batch["slot_targets"].tolist() == ROWS  # even where every revealed value shows the wrong answer
    shown = batch["candidate_state"] >= 0
    assert torch.equal(batch["candidate_state"][shown], 1 - batch["slot_targets"][shown])
    assert (batch["labels"][shown] == -100).all()
    plain = DataCollatorForLabelMask(tokenizer, make_model(**STREAM).config, reveal_strategy="random", seed=0)
    assert "slot_targets" not in plain(features(tokenizer))
    assert "slot_targets" not in DataCollatorForLabelMask(tokenizer, config, seed=0)(features(tokenizer))  # no reveal


def test_all_masked_view_adds_its_weighted_loss_on_every_label_of_the_revealing_examples(make_model, tokenizer):
    model = make_model(**STREAM, all_masked_loss_weight=0.5).train()  # the tiny BERT has no dropout
    batch = DataCollatorForLabelMask(tokenizer, model.config, reveal_strategy="random", seed=1)(features(tokenizer))
    rows = (batch["candidate_state"] >= 0).any(dim=1)
    assert 0 < rows.sum() < len(TEXTS)  # some examples reveal, some do not
    loss = model(**batch).loss
    plain = {k: v for k, v in batch.items() if k != "slot_targets"}
    model.config.all_masked_loss_weight = 0.0
    revealed = model(**plain).loss
    with torch.no_grad():
        all_masked = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    expected = revealed + 0.5 * multilabel_loss(all_masked[rows], batch["slot_targets"][rows], model.config)
    torch.testing.assert_close(loss, expected)


def test_self_conditioning_shows_the_all_masked_decisions_without_grad(make_model, tokenizer, monkeypatch):
    model = make_model(**STREAM, self_condition_prob=1.0).train()
    batch = DataCollatorForLabelMask(
        tokenizer, model.config, reveal_strategy="random", reveal_example_prob=1.0, seed=0
    )(features(tokenizer))
    calls, stream_logits = [], type(model).stream_logits

    def recorded(self, text, candidate_ids=None, candidate_state=None):
        logits = stream_logits(self, text, candidate_ids, candidate_state)
        calls.append((candidate_state, logits, torch.is_grad_enabled()))
        return logits

    monkeypatch.setattr(type(model), "stream_logits", recorded)
    model(**batch).loss.backward()
    (first, all_masked, first_grad), (state, _, grad) = calls
    assert first is None and not first_grad and grad  # the all-masked pass runs without gradient
    expected, _ = self_conditioned_state(
        all_masked, batch["candidate_state"], batch["slot_targets"], torch.ones(4, dtype=torch.bool)
    )
    assert torch.equal(state, expected)
    assert ((state >= 0).sum(dim=1) == (batch["candidate_state"] >= 0).sum(dim=1)).all()


def test_views_leave_eval_and_all_masked_batches_alone(make_model, tokenizer):
    model = make_model(**STREAM, all_masked_loss_weight=1.0, self_condition_prob=1.0)
    batch = DataCollatorForLabelMask(tokenizer, model.config, seed=0)(features(tokenizer))
    plain = make_model(**STREAM)
    plain.load_state_dict(model.state_dict())
    for m in (model.eval(), plain.eval()):
        m.train(False)
    torch.testing.assert_close(model(**batch).loss, plain(**batch).loss)


def test_a_revealing_batch_without_slot_targets_is_refused(make_model, tokenizer):
    model = make_model(**STREAM, self_condition_prob=0.5).train()
    batch = DataCollatorForLabelMask(
        tokenizer, model.config, reveal_strategy="random", reveal_example_prob=1.0, seed=0
    )(features(tokenizer))
    batch.pop("slot_targets")
    with pytest.raises(ValueError, match="slot_targets"):
        model(**batch)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"all_masked_loss_weight": -1.0, "label_stream": True}, "all_masked_loss_weight must be >= 0"),
        ({"self_condition_prob": 1.5, "label_stream": True}, r"self_condition_prob must lie in \[0, 1\]"),
        ({"self_condition_prob": 0.5, "label_stream": False}, "need label_stream=True"),
        ({"soft_reveal_prob": -0.1, "label_stream": True}, r"soft_reveal_prob must lie in \[0, 1\]"),
        ({"soft_reveal_prob": 0.5, "label_stream": False}, "Fix: --label_stream true"),
        ({"soft_reveal_prob": 0.5, "label_stream": True, "label_shortlist_size": 8}, "--label_shortlist_size 0"),
        ({"soft_reveal_prob": 0.5, "label_stream": True, "all_masked_loss_weight": 1.0}, "one or the other"),
        ({"decode_strategy": "soft", "label_stream": False}, "decode_strategy='soft' shows"),
    ],
)
def test_bad_view_options_are_refused(options, match):
    with pytest.raises(ValueError, match=match):
        LabelMaskConfig(num_labels=2, **options)


def test_soft_beliefs_are_two_p_minus_one_without_gradient():
    logits = torch.tensor([[-3.0, 0.0, 2.0]], requires_grad=True)
    beliefs = soft_beliefs(logits)
    torch.testing.assert_close(beliefs, 2 * torch.sigmoid(logits.detach()) - 1)
    assert not beliefs.requires_grad


def test_soft_rows_are_drawn_with_their_probability():
    assert choose_soft_rows(5, 1.0, torch.device("cpu")).tolist() == [0, 1, 2, 3, 4]
    assert choose_soft_rows(5, 0.0, torch.device("cpu")).numel() == 0


def test_soft_view_adds_the_loss_of_every_label_shown_its_own_detached_probability(make_model, tokenizer, monkeypatch):
    model = make_model(label_stream=True, soft_reveal_prob=1.0).train()  # the shipped compact stream; no dropout
    batch = DataCollatorForLabelMask(tokenizer, model.config, seed=0)(features(tokenizer))
    calls, stream_logits = [], type(model).stream_logits

    def recorded(self, text, candidate_ids=None, candidate_state=None, beliefs=None):
        calls.append(beliefs)
        return stream_logits(self, text, candidate_ids, candidate_state, beliefs)

    monkeypatch.setattr(type(model), "stream_logits", recorded)
    out = model(**batch)
    out.loss.backward()
    assert calls[0] is None and not calls[1].requires_grad  # all masked, then soft beliefs without gradient
    monkeypatch.undo()
    model.config.soft_reveal_prob = 0.0
    plain = model(**batch)
    text = model._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
    soft = model.stream_logits(text, None, None, soft_beliefs(plain.logits))
    expected = plain.loss + multilabel_loss(soft, batch["labels"], model.config)
    torch.testing.assert_close(out.loss, expected)
    torch.testing.assert_close(out.logits, plain.logits)  # the soft view only adds a loss
    assert not torch.allclose(soft, plain.logits, atol=1e-4)  # and the beliefs reach the labels


def test_soft_view_leaves_eval_alone_and_refuses_revealing_batches(make_model, tokenizer):
    model = make_model(**STREAM, soft_reveal_prob=1.0)
    plain = make_model(**STREAM)
    plain.load_state_dict(model.state_dict())
    batch = DataCollatorForLabelMask(tokenizer, model.config, seed=0)(features(tokenizer))
    torch.testing.assert_close(model.eval()(**batch).loss, plain.eval()(**batch).loss)
    revealing = DataCollatorForLabelMask(
        tokenizer, model.config, reveal_strategy="random", reveal_example_prob=1.0, seed=0
    )(features(tokenizer))
    with pytest.raises(ValueError, match="--reveal_strategy none"):
        model.train()(**revealing)
