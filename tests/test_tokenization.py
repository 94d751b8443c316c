import pytest
import torch

from lmmlc import MASKED, NO, YES, build_template_inputs, describe_template, tokenize_for_template

from .conftest import PAPER


def tokens(tokenizer, ids):
    return tokenizer.convert_ids_to_tokens(ids.tolist())


@pytest.mark.parametrize(
    ("mask_mode", "before", "after"), [("shared", 1, 1), ("shared", 2, 1), ("per_label", 1, 1), ("per_label", 0, 0)]
)
def test_layout_for_each_option(make_model, tokenizer, mask_mode, before, after):
    config = make_model(mask_mode=mask_mode, prompt_tokens_before=before, prompt_tokens_after=after).config
    template, offsets, _ = config.template_token_ids()
    text = tokenizer("i love it")["input_ids"]
    built = build_template_inputs(text, config)
    ids = built["input_ids"][0]
    body = text[1:-1]
    expected = [text[0], *body, text[-1], *template, text[-1]]
    start = len(text)
    assert ids.tolist() == expected
    assert built["slot_positions"][0].tolist() == [start + o for o in offsets]
    slots = ids[built["slot_positions"][0]].tolist()
    if mask_mode == "shared":
        assert slots == [tokenizer.mask_token_id] * config.num_labels
    else:
        assert slots == config.label_mask_token_ids
    assert built["attention_mask"].tolist() == [[1] * len(expected)]


def test_describe_template_shows_the_tokens(make_model, tokenizer):
    config = make_model(
        labels=["joy", "anger"], mask_mode="per_label", prompt_tokens_before=0, prompt_tokens_after=1
    ).config
    prompt = [tokenizer.convert_ids_to_tokens(ids[0]) for ids in config.prompt_token_ids]
    masks = tokenizer.convert_ids_to_tokens(config.label_mask_token_ids)
    assert describe_template(tokenizer, config, "i love it").split() == [
        "[CLS]",
        "i",
        "love",
        "it",
        "[SEP]",
        masks[0],
        prompt[0],
        masks[1],
        prompt[1],
        "[SEP]",
    ]


@pytest.mark.parametrize(("strategy", "expected"), [("none", [0, 0, 0]), ("same", [0, 1, 1]), ("per_label", [0, 1, 2])])
def test_token_types(make_model, tokenizer, strategy, expected):
    config = make_model(labels=["joy", "anger"], token_type_strategy=strategy, prompt_tokens_before=0).config
    built = build_template_inputs(tokenizer("joy")["input_ids"], config)
    slots = built["slot_positions"][0]
    types = built["token_type_ids"][0]
    assert [int(types[0]), *types[slots].tolist()] == expected
    assert types[1:3].tolist() == [0, 0]  # text and its [SEP]


def test_revealed_slots_show_yes_and_no(make_model, tokenizer):
    config = make_model(**PAPER).config
    built = build_template_inputs(tokenizer("i love it")["input_ids"], config, label_state=[YES, NO, MASKED, YES])
    slots = built["input_ids"][0, built["slot_positions"][0]].tolist()
    mask = tokenizer.mask_token_id
    assert slots == [config.yes_token_id, config.no_token_id, mask, config.yes_token_id]


def test_truncation_keeps_the_template(make_model, tokenizer):
    config = make_model(**PAPER).config
    long_text = tokenizer(" ".join(["love"] * 200))["input_ids"]
    short = build_template_inputs(tokenizer("i love it")["input_ids"], config)
    built = build_template_inputs([long_text, tokenizer("i love it")["input_ids"]], config)
    ids = built["input_ids"]
    assert ids.shape[1] == config.max_position_embeddings == 64
    template, _, _ = config.template_token_ids()
    size = len(template)
    assert ids[0, -size - 1 : -1].tolist() == template
    assert ids[0, -1].item() == ids[0, 62 - size].item() == tokenizer.sep_token_id
    assert built["attention_mask"][0].all()
    # the short text in the same batch is unchanged and right-padded
    length = short["input_ids"].shape[1]
    assert ids[1, :length].tolist() == short["input_ids"][0].tolist()
    assert not built["attention_mask"][1, length:].any()
    assert built["slot_positions"][1].tolist() == short["slot_positions"][0].tolist()


def test_tokenize_for_template_leaves_room_for_the_template(make_model, tokenizer):
    config = make_model(**PAPER).config
    ids = tokenize_for_template(tokenizer, " ".join(["love"] * 200), config)["input_ids"]
    assert len(ids) == config.text_budget() + 2 == 64 - 12 - 1


def test_empty_text_is_rejected(make_model, tokenizer):
    config = make_model().config
    with pytest.raises(ValueError, match="Example 1 has an empty text"):
        build_template_inputs([tokenizer("joy")["input_ids"], tokenizer("")["input_ids"]], config)


def test_label_state_of_wrong_shape_is_rejected(make_model, tokenizer):
    config = make_model().config
    with pytest.raises(ValueError, match="label_state has shape"):
        build_template_inputs(tokenizer("joy")["input_ids"], config, label_state=torch.zeros(1, 3))


@pytest.mark.parametrize("model_type", ["lmmlc", "baseline"])
def test_encode_dataset_caps_the_text_at_max_seq_length(make_model, bert_dir, tokenizer, model_type):
    import datasets

    from lmmlc import BertForMultiLabelClassification
    from lmmlc.tokenization import encode_dataset

    if model_type == "lmmlc":
        config = make_model(labels=["joy", "anger"]).config
    else:
        config = BertForMultiLabelClassification.from_encoder(
            bert_dir, label_names=["joy", "anger"], max_windows=1
        ).config
    rows = datasets.Dataset.from_dict({"text": ["i love it so " * 20, "sad"], "labels": [["joy"], []]})
    capped = encode_dataset(rows, tokenizer, config, max_seq_length=8)
    full = encode_dataset(rows, tokenizer, config)
    assert [len(ids) for ids in capped["input_ids"]] == [8, 3]
    assert len(full["input_ids"][0]) > 8 and capped["input_ids"][0][-1] == tokenizer.sep_token_id
    with pytest.raises(ValueError, match="at least 3"):
        encode_dataset(rows, tokenizer, config, max_seq_length=2)
