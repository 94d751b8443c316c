import math

import pytest
import torch

from lmmlc import DataCollatorForLabelMask

from .conftest import PAPER

TEXTS = ["i love it", "so angry about this thing", "sad", "happy joy the a"]


def features(tokenizer, n_labels=4, count=None, seed=0):
    generator = torch.Generator().manual_seed(seed)
    texts = TEXTS if count is None else [TEXTS[i % len(TEXTS)] for i in range(count)]
    labels = torch.randint(0, 2, (len(texts), n_labels), generator=generator).tolist()
    return [{**tokenizer(text), "labels": row} for text, row in zip(texts, labels, strict=True)]


def slot_tokens(batch):
    return batch["input_ids"].gather(1, batch["slot_positions"])


def revealed(batch):
    return batch["labels"] == -100


@pytest.fixture
def config(make_model):
    return make_model(**PAPER).config


def test_none_masks_every_label_and_targets_all(tokenizer, config):
    feats = features(tokenizer)
    batch = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="none")(feats)
    assert (slot_tokens(batch) == tokenizer.mask_token_id).all()
    assert batch["labels"].tolist() == [f["labels"] for f in feats]
    assert set(batch) == {"input_ids", "attention_mask", "token_type_ids", "slot_positions", "labels"}


def test_no_labels_gives_the_inference_batch(tokenizer, config):
    feats = [tokenizer(text) for text in TEXTS]
    batch = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="random", reveal_example_prob=1.0)(feats)
    assert "labels" not in batch
    assert (slot_tokens(batch) == tokenizer.mask_token_id).all()


def test_random_reveal_counts_share_and_values(tokenizer, config):
    collator = DataCollatorForLabelMask(
        tokenizer,
        config,
        reveal_strategy="random",
        reveal_example_prob=0.5,
        min_revealed=1,
        max_revealed=2,
        wrong_label_prob=0.0,
        seed=1,
    )
    feats = features(tokenizer, count=2000)
    batch = collator(feats)
    counts = revealed(batch).sum(dim=1)
    assert set(counts.tolist()) == {0, 1, 2}
    share = (counts > 0).float().mean().item()
    assert abs(share - 0.5) < 5 * math.sqrt(0.25 / 2000)
    # revealed slots show the true value; masked slots show the mask
    truth = torch.tensor([f["labels"] for f in feats])
    shown = slot_tokens(batch)
    expected = torch.where(truth == 1, config.yes_token_id, config.no_token_id)
    assert (shown[revealed(batch)] == expected[revealed(batch)]).all()
    assert (shown[~revealed(batch)] == tokenizer.mask_token_id).all()
    assert (batch["labels"][~revealed(batch)] == truth[~revealed(batch)].float()).all()
    # every label gets revealed sometimes (a random subset, not a fixed one)
    assert revealed(batch).any(dim=0).all()


def test_uniform_count_covers_its_range_evenly(tokenizer, config):
    collator = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="random", reveal_example_prob=1.0, seed=2)
    counts = revealed(collator(features(tokenizer, count=3000))).sum(dim=1)
    frequencies = torch.bincount(counts, minlength=4).float() / 3000
    assert frequencies[0] == 0
    for k in (1, 2, 3):  # 1/3 each, 5 standard deviations
        assert abs(frequencies[k].item() - 1 / 3) < 5 * math.sqrt(2 / 9 / 3000)


def test_prefix_reveals_a_prefix_of_the_order(tokenizer, config):
    order = [2, 0, 3, 1]
    collator = DataCollatorForLabelMask(
        tokenizer, config, reveal_strategy="prefix", reveal_order=order, reveal_example_prob=1.0, seed=4
    )
    mask = revealed(collator(features(tokenizer, count=300)))
    for row in mask:
        count = int(row.sum())
        assert row[order[:count]].all() and not row[order[count:]].any()
    assert set(mask.sum(dim=1).tolist()) == {1, 2, 3}


def test_wrong_label_noise_rate(tokenizer, config):
    rate, n = 0.1, 4000
    collator = DataCollatorForLabelMask(
        tokenizer,
        config,
        reveal_strategy="random",
        reveal_example_prob=1.0,
        min_revealed=3,
        wrong_label_prob=rate,
        seed=5,
    )
    feats = features(tokenizer, count=n)
    batch = collator(feats)
    truth = torch.tensor([f["labels"] for f in feats])
    shown_yes = slot_tokens(batch) == config.yes_token_id
    wrong = (shown_yes.long() != truth)[revealed(batch)]
    total = wrong.numel()
    assert total == 3 * n
    assert abs(wrong.float().mean().item() - rate) < 5 * math.sqrt(rate * (1 - rate) / total)


def test_default_noise_is_one_percent(tokenizer, config):
    assert DataCollatorForLabelMask(tokenizer, config).wrong_label_prob == 0.01


def test_same_seed_same_batch(tokenizer, config):
    feats = features(tokenizer, count=50)
    first = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="random", seed=7, mlm_probability=0.3)(feats)
    second = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="random", seed=7, mlm_probability=0.3)(feats)
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_mlm_masks_only_text_tokens(tokenizer, config):
    feats = features(tokenizer, count=400)
    plain = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="none")(feats)
    batch = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="none", mlm_probability=0.5, seed=8)(feats)
    targets = batch["mlm_targets"] != -100
    assert targets.any()
    text = torch.zeros_like(targets)
    for i, f in enumerate(feats):  # template at the end: text sits at 1 .. len - 2
        text[i, 1 : len(f["input_ids"]) - 1] = True
    assert not (targets & ~text).any()
    assert torch.equal(batch["input_ids"][~text], plain["input_ids"][~text])
    assert torch.equal(batch["mlm_targets"][targets], plain["input_ids"][targets])
    assert abs(targets[text].float().mean().item() - 0.5) < 0.05


@pytest.mark.parametrize(
    ("labels", "message"),
    [([1, 0, 1], "shape \\(3,\\); expected a multi-hot list of 4"), ([1, 0, 2, 0], "outside \\{0, 1\\}")],
)
def test_bad_labels_are_rejected(tokenizer, config, labels, message):
    feats = [{**tokenizer("joy"), "labels": [0, 1, 0, 0]}, {**tokenizer("sad"), "labels": labels}]
    with pytest.raises(ValueError, match="Example 1 .*" + message):
        DataCollatorForLabelMask(tokenizer, config)(feats)


def test_mixed_labelled_and_unlabelled_features_are_rejected(tokenizer, config):
    feats = [{**tokenizer("joy"), "labels": [0, 1, 0, 0]}, tokenizer("sad")]
    with pytest.raises(ValueError, match=r"Example 1 .* no labels"):
        DataCollatorForLabelMask(tokenizer, config)(feats)


def test_empty_text_is_rejected(tokenizer, config):
    feats = [{**tokenizer("joy"), "labels": [0, 1, 0, 0]}, {**tokenizer(""), "labels": [0, 1, 0, 0]}]
    with pytest.raises(ValueError, match="Example 1 has an empty text"):
        DataCollatorForLabelMask(tokenizer, config)(feats)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"reveal_strategy": "all"}, "reveal_strategy"),
        ({"wrong_label_prob": 1.5}, "wrong_label_prob"),
        ({"reveal_example_prob": -0.1}, "reveal_example_prob"),
        ({"max_revealed": 4}, "max_revealed"),
        ({"min_revealed": 0}, "min_revealed"),
        ({"reveal_order": [0, 1, 1, 3]}, "permutation"),
        ({"return_tensors": "np"}, "PyTorch"),
    ],
)
def test_bad_options_are_rejected(tokenizer, config, option, message):
    with pytest.raises(ValueError, match=message):
        DataCollatorForLabelMask(tokenizer, config, **{"reveal_strategy": "random", **option})


def test_a_single_label_is_never_revealed(make_model, tokenizer):
    config = make_model(labels=["joy"], **PAPER).config
    batch = DataCollatorForLabelMask(tokenizer, config, reveal_strategy="random", reveal_example_prob=1.0)(
        features(tokenizer, n_labels=1)
    )
    assert not revealed(batch).any()
    assert (slot_tokens(batch) == tokenizer.mask_token_id).all()


def test_a_seeded_collator_replays_batch_k_from_its_count(make_model, tokenizer):
    model = make_model()
    features = [{**tokenizer(t), "labels": [1, 0, 1, 0]} for t in ["i love it", "sad", "so angry", "joy"]]

    def collator():
        return DataCollatorForLabelMask(
            tokenizer, model.config, reveal_strategy="random", reveal_example_prob=1.0, mlm_probability=0.3, seed=7
        )

    straight = collator()
    batches = [straight(features) for _ in range(3)]
    assert not torch.equal(batches[0]["input_ids"], batches[2]["input_ids"])  # each batch draws anew
    resumed = collator()
    resumed.batches_seen = 2
    third = resumed(features)
    assert all(torch.equal(third[key], batches[2][key]) for key in batches[2])
