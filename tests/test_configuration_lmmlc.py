import json
import re

import pytest

from lmmlc import LabelMaskConfig, MultiLabelBertConfig
from lmmlc.configuration_lmmlc import MANY_LABELS_SHORTLIST, RANKER_SCORE_WEIGHT

from .conftest import PAPER


def test_label_names_set_maps_and_count():
    config = LabelMaskConfig(label_names=["b", "a", "c"])
    assert config.num_labels == 3
    assert config.label_names == ["b", "a", "c"]
    assert config.label2id == {"b": 0, "a": 1, "c": 2}
    assert config.problem_type == "multi_label_classification"


@pytest.mark.parametrize("names", [["a", "b", "a"], []])
def test_bad_label_names_are_rejected(names):
    with pytest.raises(ValueError, match=r"unique|at least one"):
        LabelMaskConfig(label_names=names)


@pytest.mark.parametrize(
    "option",
    [
        {"mask_mode": "many"},
        {"token_type_strategy": "odd"},
        {"classification_loss": "hinge"},
        {"pooling": "max"},
        {"prompt_tokens_before": -1},
        {"mask_mode": "shared", "prompt_tokens_before": 0, "prompt_tokens_after": 0},
        {"focal_alpha": 2.0},
        {"mlm_loss_weight": -1.0},
    ],
)
def test_bad_options_are_rejected(option):
    with pytest.raises(ValueError, match=next(iter(option))):
        LabelMaskConfig(label_names=["a", "b"], **option)


def test_template_token_ids_layout_shared_and_per_label():
    shared = LabelMaskConfig(
        label_names=["a", "b"],
        yes_token_id=1,
        no_token_id=2,
        mask_token_id=9,
        prompt_token_ids=[[3, 4], [5, 6]],
        **PAPER,
    )
    assert shared.template_token_ids() == ([3, 9, 4, 5, 9, 6], [1, 4], [0, 0, 0, 1, 1, 1])
    compact = LabelMaskConfig(
        label_names=["a", "b"],
        prompt_tokens_before=0,
        prompt_tokens_after=0,
        mask_mode="per_label",
        yes_token_id=1,
        no_token_id=2,
        label_mask_token_ids=[7, 8],
        prompt_token_ids=[[], []],
    )
    assert compact.template_token_ids() == ([7, 8], [0, 1], [0, 1])


def test_inconsistent_token_ids_are_rejected():
    with pytest.raises(ValueError, match="prompt_token_ids"):
        LabelMaskConfig(
            label_names=["a", "b"], yes_token_id=1, no_token_id=2, mask_token_id=9, prompt_token_ids=[[3]], **PAPER
        )
    with pytest.raises(ValueError, match="label_mask_token_ids"):
        LabelMaskConfig(
            label_names=["a"], mask_mode="per_label", yes_token_id=1, no_token_id=2, prompt_token_ids=[[3, 4]]
        )


def test_template_without_token_ids_says_how_to_get_them():
    with pytest.raises(ValueError, match=r"BertForLabelMaskClassification\.from_encoder\(bert_path, label_names"):
        LabelMaskConfig(label_names=["a"]).template_token_ids()


def test_too_many_labels_error_says_what_fits_and_what_to_change():
    with pytest.raises(ValueError) as error:
        LabelMaskConfig(
            label_names=[f"l{i}" for i in range(200)], max_position_embeddings=512, label_stream=False, **PAPER
        )
    message = str(error.value)
    assert "200 labels x 3 tokens" in message
    assert "at most 169 labels fit" in message
    assert "prompt_tokens_before=0" in message and "mask_mode='per_label'" in message and "label_stream" in message
    compact = LabelMaskConfig(label_names=[f"l{i}" for i in range(200)], label_stream=False)
    assert compact.text_budget() == 512 - 200 - 3
    with pytest.raises(ValueError) as error:  # the default (compact) template: only the stream is left to suggest
        LabelMaskConfig(label_names=[f"l{i}" for i in range(600)], label_stream=False)
    assert "at most 508 labels fit with 1 token per label. Use label_stream=True" in str(error.value)


def test_save_and_reload_keeps_every_option(tmp_path):
    config = LabelMaskConfig(
        label_names=["x", "y"],
        classification_loss="zlpr",
        mlm_loss_weight=0.3,
        yes_token_id=1,
        no_token_id=2,
        mask_token_id=9,
        prompt_token_ids=[[3, 4], [5, 6]],
        **PAPER,
    )
    config.save_pretrained(tmp_path)
    again = LabelMaskConfig.from_pretrained(tmp_path)
    assert again.to_dict() == config.to_dict()
    assert again.model_type == "lmmlc"


def test_a_bert_config_json_loads_into_the_baseline_config(bert_dir):
    config = MultiLabelBertConfig.from_pretrained(bert_dir, label_names=["a", "b"], pooling="mean")
    assert config.hidden_size == 32 and config.num_labels == 2 and config.pooling == "mean"


def test_check_tokenizer_refuses_vocabularies_that_are_not_the_models(make_model, tokenizer, bert_dir_no_unused):
    from transformers import AutoTokenizer

    from lmmlc.configuration_lmmlc import check_tokenizer

    config = make_model().config
    check_tokenizer(tokenizer, config, "model")  # its own tokenizer passes
    size = len(tokenizer)
    with pytest.raises(ValueError, match=f"has {size} tokens for the model's 44 token embeddings"):
        check_tokenizer(tokenizer, LabelMaskConfig(vocab_size=44), "model")
    with pytest.raises(ValueError, match=f"has {size} tokens for the model's 200 token embeddings"):
        check_tokenizer(tokenizer, LabelMaskConfig(vocab_size=200), "model")
    # the right size, but the template's ids lie past this vocabulary's end
    config.prompt_token_ids = [[3, 4], [5, 6], [7, 8], [9, 150]]
    smaller = AutoTokenizer.from_pretrained(bert_dir_no_unused)
    config.vocab_size = len(smaller)
    with pytest.raises(ValueError, match=r"lacks the label template's tokens \(ids up to 150"):
        check_tokenizer(smaller, config, "model")


@pytest.mark.parametrize("labels", [4, 470, 600])
def test_a_new_model_gets_the_label_stream_at_any_label_count(labels):
    """The default (label_stream=None) resolves to the stream for a new model: the text keeps every position."""
    config = LabelMaskConfig(label_names=[f"l{i}" for i in range(labels)], max_position_embeddings=512)
    assert config.label_stream is True and config.text_budget() == 510
    if labels < 509:  # one sequence still holds them (compact template: one position per label)
        names = [f"l{i}" for i in range(labels)]
        single = LabelMaskConfig(label_names=names, max_position_embeddings=512, label_stream=False)
        assert single.label_stream is False and single.text_budget() == 512 - labels - 3


def test_the_stream_is_not_chosen_where_it_cannot_run_or_a_checkpoint_predates_it():
    relative = LabelMaskConfig(label_names=["a", "b"], position_embedding_type="relative_key")
    assert relative.label_stream is False
    legacy = {"yes_token_id": 1, "no_token_id": 2, "label_mask_token_ids": [7, 8], "prompt_token_ids": [[], []]}
    assert LabelMaskConfig(label_names=["a", "b"], **legacy).label_stream is False  # trained, saved without the field


def test_a_new_stream_model_past_one_group_gets_a_shortlist_and_trained_configs_keep_theirs(tmp_path):
    many = [f"l{i}" for i in range(65)]  # more than one group of 64
    assert LabelMaskConfig(label_names=many).label_shortlist_size == MANY_LABELS_SHORTLIST
    assert LabelMaskConfig(label_names=many, label_group_size=65).label_shortlist_size == 0  # one group
    assert LabelMaskConfig(label_names=["a", "b"]).label_shortlist_size == 0
    assert LabelMaskConfig(label_names=many, label_stream=False, prompt_tokens_before=0).label_shortlist_size == 0
    assert LabelMaskConfig(label_names=many, label_shortlist_size=0).label_shortlist_size == 0  # switched off
    legacy = {"yes_token_id": 1, "no_token_id": 2, "label_mask_token_ids": list(range(65)), "prompt_token_ids": []}
    legacy["prompt_token_ids"] = [[] for _ in many]
    assert LabelMaskConfig(label_names=many, label_stream=True, **legacy).label_shortlist_size is None  # saved so
    for size in (0, 32):
        LabelMaskConfig(label_names=many, label_shortlist_size=size).save_pretrained(tmp_path / str(size))
        assert LabelMaskConfig.from_pretrained(tmp_path / str(size)).label_shortlist_size == size


def test_a_new_model_with_a_ranker_gets_the_measured_ranker_weight_and_older_checkpoints_do_not(tmp_path):
    assert LabelMaskConfig(label_names=["a", "b"], label_shortlist_size=1).ranker_score_weight == RANKER_SCORE_WEIGHT
    assert LabelMaskConfig(label_names=["a", "b"]).ranker_score_weight == 0.0  # no ranker
    legacy = {"yes_token_id": 1, "no_token_id": 2, "label_mask_token_ids": [7, 8], "prompt_token_ids": [[], []]}
    trained = LabelMaskConfig(label_names=["a", "b"], label_stream=True, label_shortlist_size=1, **legacy)  # before it
    assert trained.ranker_score_weight == 0.0
    config = LabelMaskConfig(
        label_names=["a", "b"], label_stream=True, label_shortlist_size=1, ranker_score_weight=0.25, **legacy
    )
    config.save_pretrained(tmp_path)
    assert LabelMaskConfig.from_pretrained(tmp_path).ranker_score_weight == 0.25


def test_a_new_stream_model_gets_the_pooled_text_head_at_every_label_count_and_older_checkpoints_do_not(tmp_path):
    assert LabelMaskConfig(label_names=["a", "b"]).pooled_text_head is True  # the measured default (BENCHMARKS 1f)
    many = [f"l{i}" for i in range(65)]  # past one group: chosen on cooking-250 validation (BENCHMARKS 5i,
    # docs/benchmarks/label_count/choose-cooking-250.md and choose-correction.md: the head trained on every label)
    assert LabelMaskConfig(label_names=many).pooled_text_head is True
    assert LabelMaskConfig(label_names=many, pooled_text_head=False).pooled_text_head is False
    assert LabelMaskConfig(label_names=["a", "b"], label_stream=False).pooled_text_head is False  # nothing to add to
    assert LabelMaskConfig(label_names=["a", "b"], pooled_text_head=False).pooled_text_head is False
    legacy = {"yes_token_id": 1, "no_token_id": 2, "label_mask_token_ids": [7, 8], "prompt_token_ids": [[], []]}
    trained = LabelMaskConfig(label_names=["a", "b"], label_stream=True, **legacy)  # saved before the head existed
    assert trained.pooled_text_head is False
    for head in (True, False):  # a trained config keeps what it was trained with
        config = LabelMaskConfig(label_names=["a", "b"], label_stream=True, pooled_text_head=head, **legacy)
        config.save_pretrained(tmp_path / str(head))
        assert LabelMaskConfig.from_pretrained(tmp_path / str(head)).pooled_text_head is head


def test_an_edited_id2label_names_what_disagrees_with_the_thresholds():
    from lmmlc.configuration_lmmlc import resolve_thresholds

    config = LabelMaskConfig(label_names=["a", "b"])
    config.label_thresholds = [0.3, 0.4, 0.5]  # as read from a config.json whose id2label lost a label
    with pytest.raises(ValueError, match="label_thresholds has 3 values and its id2label 2 labels: one of them"):
        resolve_thresholds(config)
    with pytest.raises(ValueError, match=r"Got 3 thresholds for 2 labels; give 1 or one per label\.$"):
        resolve_thresholds(config, [0.1, 0.2, 0.3])


def test_a_config_saved_before_the_removals_loads_when_the_removed_options_are_off(make_model, tmp_path):
    model = make_model(label_stream=True)
    model.save_pretrained(tmp_path)
    path = tmp_path / "config.json"
    saved = json.loads(path.read_text())
    # the removed options as the old code wrote them, at their off values
    saved.update(decode_beam_size=4, self_condition_prob=0.0, soft_reveal_prob=0.0, template_position="end")
    path.write_text(json.dumps(saved))
    loaded = type(model).from_pretrained(tmp_path)
    assert not hasattr(loaded.config, "self_condition_prob") and not hasattr(loaded.config, "decode_beam_size")
    assert "soft_reveal_prob" not in loaded.config.to_dict()


@pytest.mark.parametrize(
    ("removed", "named"),
    [
        ({"self_condition_prob": 0.25}, "self_condition_prob=0.25"),
        ({"soft_reveal_prob": 0.5}, "soft_reveal_prob=0.5"),
        ({"decode_strategy": "soft"}, "decode_strategy='soft'"),
        ({"decode_strategy": "beam"}, "decode_strategy='beam'"),
        ({"decode_strategy": "certain"}, "decode_strategy='certain'"),
        ({"label_stream_attention": "group"}, "label_stream_attention='group'"),
        ({"template_position": "begin"}, "template_position='begin'"),
    ],
)
def test_a_config_that_uses_a_removed_option_is_refused_naming_it(make_model, tmp_path, removed, named):
    model = make_model(label_stream=True)
    model.save_pretrained(tmp_path)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **removed}))
    with pytest.raises(ValueError, match=rf"{re.escape(named)}: removed from lmmlc after it measured to lose"):
        type(model).from_pretrained(tmp_path)
