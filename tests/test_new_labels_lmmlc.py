"""`add_labels` (new_labels_lmmlc.py): labels added by name to a trained label-stream model; old scores stay."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import AutoTokenizer

from lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification
from lmmlc.label_stream_lmmlc import encode_text, stream_logits

from .conftest import BLOCK_LMMLC, LABELS
from .test_export import TEXTS, spread

NEW = ["happy", "cs.math"]


def stream_model(bert_dir, tokenizer=None, **options):
    torch.manual_seed(0)
    model = BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS, tokenizer=tokenizer, **options)
    return spread(model)


MANY_TEXTS = [
    f"{a} {b} it" for a in ("i love", "so angry", "sad", "happy joy") for b in ("the a", "cs math", "fear", "no")
]
"""16 texts: a batch big enough that a matrix product's blocking would change with its shape."""


def scores(model, tokenizer, texts=MANY_TEXTS):
    with torch.no_grad():
        return model(**tokenizer(texts, padding=True, return_tensors="pt")).logits


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"pooled_text_head": False},
        {"prompt_tokens_before": 1},
        {"token_type_strategy": "per_label"},
        {"label_stream_attention": "revealed_positions", "label_group_size": 2, "label_shortlist_size": 0},
    ],
)
def test_old_labels_keep_their_scores_to_the_bit(bert_dir, options):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir, **options)
    before = scores(model, tokenizer)
    ids = model.add_labels(NEW, tokenizer)
    after = scores(model, tokenizer)
    assert ids == [4, 5] and model.config.label_names == [*LABELS, *NEW] and after.shape == (len(MANY_TEXTS), 6)
    assert torch.equal(after[:, :4], before)
    assert model.config.label_blocks == [4, 2]
    model.add_labels(["grief"], tokenizer)  # a second call: its own block, nothing earlier moves
    again = scores(model, tokenizer)
    assert model.config.label_blocks == [4, 2, 1] and torch.equal(again[:, :6], after)
    assert torch.isfinite(after[:, 4:]).all() and after[:, 4:].std() > 0


def test_decoded_probabilities_of_old_labels_stay_to_the_bit_at_odd_batch_sizes(bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir).eval()
    for texts in (MANY_TEXTS * 3 + MANY_TEXTS[:3], MANY_TEXTS[:5]):  # 51 and 5 rows: the vectorised tails differ
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        before = model.decode(**batch).probs
        grown = copy.deepcopy(model)
        grown.add_labels(NEW, copy.deepcopy(tokenizer))
        assert torch.equal(grown.decode(**batch).probs[:, :4], before)


def test_new_labels_start_from_their_names_and_the_global_threshold(bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir)
    model.config.threshold, model.config.label_thresholds = 0.4, [0.1, 0.2, 0.3, 0.6]
    size = len(tokenizer)
    model.add_labels(["happy joy"], tokenizer, descriptions=["joy"])
    config, weight = model.config, model.bert.get_input_embeddings().weight
    assert len(tokenizer) == size  # a free [unusedN] slot, not a new token
    slot = config.label_mask_token_ids[4]
    assert slot not in config.label_mask_token_ids[:4] and tokenizer.convert_ids_to_tokens(slot).startswith("[unused")
    assert torch.equal(weight[slot], weight[tokenizer.convert_tokens_to_ids("joy")])  # the description's word piece
    assert config.label_thresholds == [0.1, 0.2, 0.3, 0.6, 0.4]
    assert torch.equal(model.text_head.weight[4], torch.zeros(32)) and model.text_head.bias[4] == 0
    assert model.text_head.weight.shape == (5, 32) and model.text_head.out_features == 5


def test_a_vocabulary_without_free_slots_gains_tokens_and_the_old_tokenizer_is_refused(bert_dir_no_unused):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir_no_unused)
    model = stream_model(bert_dir_no_unused, tokenizer)  # warm start adds its template tokens to `tokenizer`
    old_tokenizer = copy.deepcopy(tokenizer)
    before = scores(model, tokenizer)
    model.add_labels(NEW, tokenizer)
    assert len(tokenizer) == len(old_tokenizer) + 2
    assert len(tokenizer) == model.config.vocab_size == model.cls.predictions.bias.numel()
    assert torch.equal(scores(model, tokenizer)[:, :4], before)
    with pytest.raises(ValueError, match="token"):
        from lmmlc.configuration_lmmlc import check_tokenizer

        check_tokenizer(old_tokenizer, model.config, "old")


def test_a_ranker_gains_a_vector_per_name_and_the_old_labels_keep_shortlist_and_fused_scores(bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    many = [f"tag{i}" for i in range(9)]
    torch.manual_seed(0)
    model = BertForLabelMaskClassification.from_encoder(
        bert_dir, label_names=many, label_group_size=4, label_shortlist_size=5, ranker_score_weight=0.2
    )
    model = spread(model).eval()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    full, probs = scores(model, tokenizer), model.decode(**batch).probs  # shortlist of 5 of 9, ranker fused
    with torch.no_grad():
        text = encode_text(model.bert, batch["input_ids"], batch["attention_mask"], full_last_layer=True)
        before = stream_logits(model, text)
        model.add_labels([*NEW, "tag new", "tag more", "tag last"], tokenizer)
        model.ranker.label_bias[9:] = 5.0  # the new labels rank first: they must not push old labels out
        after = stream_logits(model, text)
    assert model.ranker.label_vectors.shape == (14, 32) and model.ranker.label_bias.shape == (14,)
    assert torch.equal(after[:, :9], before)
    grown = scores(model, tokenizer)
    assert grown.shape == (len(MANY_TEXTS), 14) and torch.equal(grown[:, :9], full)
    assert torch.equal(model.decode(**batch).probs[:, :9], probs)
    assert torch.isfinite(grown[:, 9:]).all()


def test_label_blocks_must_split_the_labels(bert_dir):
    from lmmlc import LabelMaskConfig

    with pytest.raises(ValueError, match=r"label_blocks=\[3, 2\] must be positive sizes summing to the 4 labels"):
        LabelMaskConfig(label_names=LABELS, label_blocks=[3, 2])
    assert LabelMaskConfig(label_names=LABELS, label_blocks=[3, 1]).label_blocks == [3, 1]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["joy"], r"already the model's or repeated: \['joy'\]"),
        (["new", "new"], r"already the model's or repeated: \['new'\]"),
        ([" "], "must be non-empty texts"),
        ([], "non-empty list of names"),
        ("happy", "non-empty list of names"),
    ],
)
def test_bad_names_are_refused_before_anything_changes(bert_dir, names, message):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir)
    with pytest.raises(ValueError, match=message):
        model.add_labels(names, tokenizer)
    assert model.config.label_names == LABELS and model.text_head.weight.shape[0] == 4
    with pytest.raises(ValueError, match="one description per new label"):
        model.add_labels(["a", "b"], tokenizer, descriptions=["only one"])


def test_models_whose_old_labels_would_move_are_refused(make_model, tokenizer, bert_dir):
    with pytest.raises(ValueError, match="needs a label-stream model"):
        make_model().add_labels(NEW, tokenizer)  # single sequence
    with pytest.raises(ValueError, match="would move the old labels' positions"):
        stream_model(bert_dir, label_stream_attention="revealed_positions").add_labels(NEW, tokenizer)
    baseline = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS)
    assert not hasattr(baseline, "add_labels")


def test_the_saved_model_serves_its_new_labels_without_lmmlc(bert_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir)
    model.add_labels(NEW, tokenizer)
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    expected = scores(model, tokenizer, TEXTS)
    script = BLOCK_LMMLC + textwrap.dedent(
        f"""
        import json, torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
        path = {str(tmp_path / "model")!r}
        model = AutoModelForSequenceClassification.from_pretrained(path, trust_remote_code=True).eval()
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)
        with torch.no_grad():
            logits = model(**tokenizer({TEXTS!r}, padding=True, return_tensors="pt")).logits
        labels = [r["label"] for r in pipeline(model=path, trust_remote_code=True)("i love it", top_k=None)]
        print(json.dumps({{"logits": logits.tolist(), "labels": labels}}))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert torch.tensor(served["logits"]) == pytest.approx(expected, abs=1e-5)
    assert sorted(served["labels"]) == sorted([*LABELS, *NEW])
