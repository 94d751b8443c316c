"""`warm_start_lmmlc`: a new model on a plain BERT: template tokens, their embeddings, refusals."""

import pytest
import torch
from transformers import AutoTokenizer

from lmmlc import BertForLabelMaskClassification

from .conftest import LABELS, PAPER
from .test_modeling_lmmlc import LABEL_ROWS, batch_for


def test_warm_start_embeddings_come_from_words(make_model, tokenizer):
    model = make_model(mask_mode="per_label", prompt_tokens_before=1, prompt_tokens_after=1)
    weight = model.bert.get_input_embeddings().weight
    config = model.config
    assert torch.equal(weight[config.yes_token_id], weight[tokenizer.convert_tokens_to_ids("yes")])
    assert torch.equal(weight[config.no_token_id], weight[tokenizer.convert_tokens_to_ids("no")])
    cs, it = tokenizer.convert_tokens_to_ids(["cs", "it"])
    label = LABELS.index("cs.it")
    expected = (weight[cs] + weight[it]) / 2
    assert torch.allclose(weight[config.label_mask_token_ids[label]], expected)
    assert torch.allclose(weight[config.prompt_token_ids[label]], expected.expand(2, -1))
    unused = set(tokenizer.convert_tokens_to_ids([f"[unused{i}]" for i in range(60)]))
    assert {config.yes_token_id, config.no_token_id, *config.label_mask_token_ids} <= unused


def test_vocab_without_unused_slots_gets_new_tokens(bert_dir_no_unused):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir_no_unused)
    size = len(tokenizer)
    model = BertForLabelMaskClassification.from_encoder(
        bert_dir_no_unused, label_names=LABELS, tokenizer=tokenizer, **PAPER
    )
    added = 2 + len(LABELS) * 2
    assert len(tokenizer) == size + added
    assert model.config.vocab_size == size + added == model.bert.get_input_embeddings().num_embeddings
    assert model.cls.predictions.bias.numel() == size + added
    assert min(model.config.prompt_token_ids)[0] >= size
    out = model(**batch_for(tokenizer, model.config, LABEL_ROWS, mlm_probability=0.3, seed=0))
    assert torch.isfinite(out.loss)


def test_per_label_token_types_grow_the_embedding(make_model):
    model = make_model(token_type_strategy="per_label")
    assert model.bert.embeddings.token_type_embeddings.num_embeddings == len(LABELS) + 1
    assert model.config.type_vocab_size == len(LABELS) + 1


def test_warm_start_refuses_a_trained_checkpoint(make_model, tmp_path):
    make_model().save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="already a trained lmmlc model"):
        BertForLabelMaskClassification.from_encoder(tmp_path, label_names=["x"])
