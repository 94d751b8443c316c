import pytest
import torch
import torch.nn.functional as F

from lmmlc import DataCollatorForLabelMask
from lmmlc.label_stream_lmmlc import stream_logits
from lmmlc.shortlist_lmmlc import OUTSIDE_LOGIT, fuse_ranker, merge_shortlisted, ranker_loss, shortlist

from .conftest import LABELS

TEXTS = ["i love it", "so angry about this thing the a", "sad", "happy joy"]
ROWS = [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]


def test_shortlist_is_the_rankers_top_labels_sorted():
    ranker = torch.tensor([[0.1, 3.0, -1.0, 2.0, 0.5], [5.0, 4.0, 3.0, 2.0, 1.0]])
    assert shortlist(ranker, 2).tolist() == [[1, 3], [0, 1]]
    assert shortlist(ranker, 9).tolist() == [[0, 1, 2, 3, 4]] * 2  # capped at the label count


def test_outside_labels_score_below_every_shortlisted_label_in_ranker_order():
    ranker = torch.tensor([[0.1, 3.0, -1.0, 2.0, 0.5]])
    chosen = torch.tensor([[1, 3]])
    scored = torch.tensor([[-12.0, 4.0]])
    merged = merge_shortlisted(ranker, chosen, scored)
    assert merged[0, 1] == -12.0 and merged[0, 3] == 4.0  # the stream's scores, untouched
    outside = merged[0, [0, 2, 4]]
    assert (outside < -12.0).all() and (outside < OUTSIDE_LOGIT).all()
    assert outside.argsort(descending=True).tolist() == [2, 0, 1]  # labels 4, 0, 2: the ranker's order
    high = merge_shortlisted(ranker, chosen, torch.tensor([[3.0, 4.0]]))
    assert (high[0, [0, 2, 4]] < OUTSIDE_LOGIT).all()


def test_ranker_loss_is_a_softmax_over_labels_averaged_over_positives():
    logits = torch.tensor([[2.0, -1.0, 0.5, 1.0], [0.0, 3.0, 1.0, -2.0], [1.0, 1.0, 1.0, 1.0]])
    targets = torch.tensor([[1.0, -100.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    first = torch.tensor([2.0, 0.5, 1.0]).log_softmax(0)  # the ignored label leaves the softmax
    second = logits[1].log_softmax(0)
    expected = -((first[0] + first[2]) / 2 + second[1]) / 2  # the third example has no positive: skipped
    torch.testing.assert_close(ranker_loss(logits, targets, -100), expected)
    assert ranker_loss(logits, torch.full_like(targets, -100.0), -100) == 0


@pytest.fixture
def shortlisted(make_model):
    return make_model(label_stream=True, label_shortlist_size=2, label_group_size=len(LABELS)).eval()


def test_inference_scores_only_the_shortlist_with_the_stream(shortlisted, tokenizer):
    shortlisted.config.ranker_score_weight = 0.0  # the stream's scores alone
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        text = shortlisted._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
        ranker = shortlisted.ranker_logits(text)
        chosen = shortlist(ranker, 2)
        expected = stream_logits(shortlisted, text, chosen)
        logits = shortlisted(**batch).logits
        assert torch.equal(logits.gather(1, chosen), expected)
        outside = torch.ones_like(logits, dtype=torch.bool).scatter(1, chosen, False)
        assert (logits[outside].view(4, -1) < expected.min(dim=1, keepdim=True).values).all()
        probs = shortlisted.decode(**batch, strategy="one_shot").probs  # the path of predict and evaluate
        torch.testing.assert_close(probs, torch.sigmoid(logits), atol=1e-6, rtol=1e-6)
        shortlisted.config.label_shortlist_size = len(LABELS)  # a shortlist of every label: the plain stream
        torch.testing.assert_close(shortlisted(**batch).logits, stream_logits(shortlisted, text), atol=0, rtol=0)
        shortlisted.config.label_shortlist_size = None  # switched off on a model that has a ranker: every label
        torch.testing.assert_close(shortlisted(**batch).logits, stream_logits(shortlisted, text), atol=0, rtol=0)


def test_inference_adds_the_rankers_weighted_log_probability_to_every_scored_label(shortlisted, tokenizer):
    shortlisted.config.ranker_score_weight = 0.5
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        text = shortlisted._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
        prior = 0.5 * shortlisted.ranker_logits(text).log_softmax(dim=1)
        chosen = shortlist(prior, 2)
        logits = shortlisted(**batch).logits
        fused = stream_logits(shortlisted, text, chosen) + prior.gather(1, chosen)
        torch.testing.assert_close(logits.gather(1, chosen), fused)
        outside = torch.ones_like(logits, dtype=torch.bool).scatter(1, chosen, False)
        assert (logits[outside].view(4, -1) < fused.min(dim=1, keepdim=True).values).all()
        probs = shortlisted.decode(**batch, strategy="one_shot").probs
        torch.testing.assert_close(probs, torch.sigmoid(logits), atol=1e-6, rtol=1e-6)
        for off in (None, 0):  # every label scored, each fused: the weight, not the size, switches fusion off
            shortlisted.config.label_shortlist_size = off
            torch.testing.assert_close(shortlisted(**batch).logits, stream_logits(shortlisted, text) + prior)
    shortlisted.train()  # training scores the stream alone
    text = shortlisted._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
    torch.testing.assert_close(shortlisted(**batch).logits, stream_logits(shortlisted, text))


def test_training_scores_every_label_and_trains_the_ranker(shortlisted, tokenizer):
    shortlisted.train()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    labels = torch.tensor(ROWS, dtype=torch.float)
    out = shortlisted(**batch, labels=labels)
    text = shortlisted._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
    torch.testing.assert_close(out.logits, stream_logits(shortlisted, text))  # every label, no shortlist
    label_loss = F.binary_cross_entropy_with_logits(out.logits, labels)
    torch.testing.assert_close(out.loss, label_loss + ranker_loss(shortlisted.ranker_logits(text), labels, -100))
    out.loss.backward()
    assert shortlisted.ranker.label_vectors.grad.abs().sum() > 0
    assert shortlisted.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    shortlisted.zero_grad()
    ranker_loss(shortlisted.ranker_logits(text), labels, -100).backward()  # the ranker never trains the encoder
    assert shortlisted.ranker.label_vectors.grad.abs().sum() > 0
    assert all(p.grad is None or not p.grad.any() for p in shortlisted.bert.parameters())


def test_the_collator_gives_the_ranker_every_labels_target(shortlisted, tokenizer):
    names = [f"l{i}" for i in range(12)]
    config = type(shortlisted.config)(label_names=names, label_stream=True, label_shortlist_size=3)
    rows = [[int(j % (2 + i) == 0) for j in range(12)] for i in range(4)]
    collator = DataCollatorForLabelMask(tokenizer, config, label_sample_size=4, reveal_strategy="none", seed=0)
    batch = collator([{**tokenizer(t), "labels": r} for t, r in zip(TEXTS, rows, strict=True)])
    assert batch["ranker_targets"].tolist() == rows and batch["candidate_ids"].shape[1] < 12
    plain = DataCollatorForLabelMask(tokenizer, type(config)(label_names=names, label_stream=True), seed=0)
    assert "ranker_targets" not in plain([{**tokenizer(t), "labels": r} for t, r in zip(TEXTS, rows, strict=True)])


def test_sampled_labels_without_ranker_targets_are_refused(shortlisted, tokenizer):
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    candidates = torch.tensor([[0, 1]] * 4)
    with pytest.raises(ValueError, match="also pass ranker_targets"):
        shortlisted.train()(**batch, candidate_ids=candidates, labels=torch.ones(4, 2))


def test_bad_shortlist_options_are_refused(make_model):
    with pytest.raises(ValueError, match="label_shortlist_size needs label_stream=True"):
        make_model(label_stream=False, label_shortlist_size=2)
    with pytest.raises(ValueError, match="label_shortlist_size must be >= 1"):
        make_model(label_stream=True, label_shortlist_size=-1)
    assert make_model(label_stream=True, label_shortlist_size=0).ranker is None  # 0: no ranker
    with pytest.raises(ValueError, match="ranker_score_weight must be a finite number >= 0"):
        make_model(label_stream=True, label_shortlist_size=2, ranker_score_weight=-0.5)
    with pytest.raises(ValueError, match="needs the label ranker: set label_shortlist_size"):
        make_model(label_stream=True, ranker_score_weight=0.5)


def test_fuse_ranker_adds_the_weighted_log_softmax_of_the_chosen_labels():
    ranker = torch.tensor([[0.0, 1.0, 2.0]])
    logits = torch.tensor([[1.0, -1.0]])
    expected = logits + 2.0 * ranker.log_softmax(dim=1)[:, [2, 0]]
    torch.testing.assert_close(fuse_ranker(logits, ranker, torch.tensor([[2, 0]]), 2.0), expected)
    assert fuse_ranker(logits, ranker, torch.tensor([[2, 0]]), 0.0) is logits


def test_a_shortlist_on_a_model_without_a_ranker_is_refused(make_model, tokenizer):
    model = make_model(label_stream=True, label_shortlist_size=0).eval()
    model.config.label_shortlist_size = 2
    with pytest.raises(ValueError, match="label_shortlist_size=2 needs the label ranker"):
        model(**tokenizer(TEXTS, padding=True, return_tensors="pt"))


def test_scoring_every_label_round_trips_through_save_and_load(shortlisted, tokenizer, tmp_path):
    from lmmlc import BertForLabelMaskClassification

    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    shortlisted.config.label_shortlist_size = 0  # the README's edit: score every label, still fusing the ranker
    with torch.no_grad():
        expected = shortlisted(**batch).logits
    shortlisted.save_pretrained(tmp_path)
    assert shortlisted.config.label_shortlist_size == 0  # saving leaves the model in memory as it was
    reloaded = BertForLabelMaskClassification.from_pretrained(tmp_path).eval()
    assert reloaded.ranker is not None and reloaded.config.ranker_score_weight == shortlisted.config.ranker_score_weight
    with torch.no_grad():
        torch.testing.assert_close(reloaded(**batch).logits, expected)


def test_ranked_negatives_are_the_positives_and_the_rankers_top_negatives(shortlisted, tokenizer):
    """`sample_size` (with `uniform_size` 0): each example scores its positives plus the negatives its ranker
    ranks highest, by hand on 4 labels."""
    shortlisted.train()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    labels = torch.tensor(ROWS, dtype=torch.float)
    text = shortlisted._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
    ranker = shortlisted.ranker_logits(text).detach()
    ids, chosen, targets = shortlisted._ranked_candidates(text, labels, 2)
    assert ids.shape == (4, 4)  # the last example has 4 positives: every row grows to 4 (here: every label)
    ids, chosen, targets = shortlisted._ranked_candidates(text.rows(torch.arange(3)), labels[:3], 2)
    for row, picked in enumerate(ids.tolist()):
        positives = [j for j in range(4) if ROWS[row][j]]
        negatives = sorted((j for j in range(4) if not ROWS[row][j]), key=lambda j: -ranker[row, j])
        assert picked == sorted(positives + negatives[: 2 - len(positives)])
    assert chosen.tolist() == labels[:3].gather(1, ids).tolist() and torch.equal(targets, labels[:3])
    out = shortlisted(**{k: v[:3] for k, v in batch.items()}, labels=labels[:3], sample_size=torch.tensor(2))
    assert out.logits.shape == (3, 2)


def test_mixed_negatives_take_the_first_by_rank_then_uniform_others(shortlisted, tokenizer):
    """`uniform_size` (label_negatives='mixed'): the positives and the ranker's top negatives fill size - uniform
    slots, the rest are drawn uniformly from the other labels (every one of them drawn over many draws)."""
    shortlisted.train()
    batch = tokenizer(TEXTS[:3], padding=True, return_tensors="pt")
    labels = torch.tensor(ROWS[:3], dtype=torch.float)
    text = shortlisted._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
    ranker = shortlisted.ranker_logits(text).detach()
    seen = [set() for _ in range(3)]
    for seed in range(40):
        torch.manual_seed(seed)
        ids, _, _ = shortlisted._ranked_candidates(text, labels, 3, uniform=1)
        assert ids.shape == (3, 3)
        for row, picked in enumerate(ids.tolist()):
            positives = [j for j in range(4) if ROWS[row][j]]
            negatives = sorted((j for j in range(4) if not ROWS[row][j]), key=lambda j: -ranker[row, j])
            first = positives + negatives[: max(2 - len(positives), 0)]
            assert set(first) <= set(picked) and picked == sorted(picked)
            seen[row] |= set(picked) - set(first)
    assert seen[0] == {0, 1, 2, 3} - {0, *sorted((1, 2, 3), key=lambda j: -ranker[0, j])[:1]}  # both others drawn
    out = shortlisted(**batch, labels=labels, sample_size=torch.tensor(3), uniform_size=torch.tensor(1))
    assert out.logits.shape == (3, 3)


def test_the_mixed_collator_leaves_the_choice_to_the_model(shortlisted, tokenizer):
    names = [f"l{i}" for i in range(12)]
    config = type(shortlisted.config)(label_names=names, label_stream=True, label_shortlist_size=3)
    rows = [[int(j % (2 + i) == 0) for j in range(12)] for i in range(4)]
    collator = DataCollatorForLabelMask(tokenizer, config, label_sample_size=4, label_negatives="mixed", seed=0)
    batch = collator([{**tokenizer(t), "labels": r} for t, r in zip(TEXTS, rows, strict=True)])
    assert "candidate_ids" not in batch and batch["sample_size"].item() == 4 and batch["labels"].tolist() == rows
    assert batch["uniform_size"].item() == 2
    with pytest.raises(ValueError, match="the model needs a ranker"):
        DataCollatorForLabelMask(
            tokenizer,
            type(config)(label_names=names, label_stream=True, label_shortlist_size=0),
            label_sample_size=4,
            label_negatives="mixed",
        )
    with pytest.raises(ValueError, match="reveal_strategy='none'"):
        DataCollatorForLabelMask(
            tokenizer, config, label_sample_size=4, label_negatives="mixed", reveal_strategy="random"
        )
    for removed in ("hard", "ranked"):  # ranked: removed after it lost to mixed (NOTEBOOK 5q)
        with pytest.raises(ValueError, match=f"label_negatives='{removed}'"):
            DataCollatorForLabelMask(tokenizer, config, label_sample_size=4, label_negatives=removed)
