import pytest
import torch

from lmmlc import DataCollatorForLabelMask, LabelMaskConfig
from lmmlc.losses_lmmlc import multilabel_loss

TEXTS = ["i love it", "so angry about this thing the a", "sad", "happy joy"]
ROWS = [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]
STREAM = {"label_stream": True, "prompt_tokens_before": 1}  # prompt tokens name revealed labels in the stream


def features(tokenizer):
    return [{**tokenizer(t), "labels": r} for t, r in zip(TEXTS, ROWS, strict=True)]


def test_collator_gives_the_truth_of_revealed_slots_only_when_the_view_needs_it(make_model, tokenizer):
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


def test_the_view_leaves_eval_and_all_masked_batches_alone(make_model, tokenizer):
    model = make_model(**STREAM, all_masked_loss_weight=1.0)
    batch = DataCollatorForLabelMask(tokenizer, model.config, seed=0)(features(tokenizer))
    plain = make_model(**STREAM)
    plain.load_state_dict(model.state_dict())
    for m in (model.eval(), plain.eval()):
        m.train(False)
    torch.testing.assert_close(model(**batch).loss, plain(**batch).loss)


def test_a_revealing_batch_without_slot_targets_is_refused(make_model, tokenizer):
    model = make_model(**STREAM, all_masked_loss_weight=0.5).train()
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
        ({"all_masked_loss_weight": 0.5, "label_stream": False}, "needs label_stream=True"),
    ],
)
def test_bad_view_options_are_refused(options, match):
    with pytest.raises(ValueError, match=match):
        LabelMaskConfig(num_labels=2, **options)
