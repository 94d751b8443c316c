"""Property-based fuzzing (hypothesis) of template building and the label-mask collator: random label
counts, prompt-token settings, text lengths and reveal strategies must keep every invariant."""

from functools import cache

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmmlc import DataCollatorForLabelMask, LabelMaskConfig
from lmmlc.warm_start_lmmlc import _assign_template_tokens, config_from

from .conftest import WORDS

OPTIONS = st.fixed_dictionaries(
    {
        "num_labels": st.integers(1, 8),
        "before": st.integers(0, 2),
        "after": st.integers(0, 2),
        "mask_mode": st.sampled_from(["shared", "per_label"]),
        "token_types": st.sampled_from(["none", "same", "per_label"]),
    }
)
REVEAL = st.fixed_dictionaries(
    {
        "reveal_strategy": st.sampled_from(["none", "random", "prefix"]),
        "reveal_example_prob": st.floats(0.0, 1.0),
        "wrong_label_prob": st.floats(0.0, 0.5),
        "mlm_probability": st.sampled_from([0.0, 0.3]),
        "seed": st.integers(0, 2**16),
    }
)
TEXTS = st.lists(st.lists(st.sampled_from(WORDS[2:]), min_size=1, max_size=80), min_size=1, max_size=5)


@cache
def model_config(bert_dir, tokenizer, num_labels, before, after, mask_mode, token_types):
    """A warm-start config with template token ids assigned (no weights: fast); its vocab and type sizes."""
    if mask_mode == "shared" and before + after == 0:
        mask_mode = "per_label"  # a shared mask needs prompt tokens to tell labels apart (rejected otherwise)
    options = {
        "prompt_tokens_before": before,
        "prompt_tokens_after": after,
        "mask_mode": mask_mode,
        "token_type_strategy": token_types,
        "label_stream": False,  # the single-sequence template; the stream's batches are tested in test_label_stream
    }
    names = [f"label{i}" for i in range(num_labels)]
    config = config_from(LabelMaskConfig, bert_dir, names, options, {})
    vocab = _assign_template_tokens(config, tokenizer)
    assert vocab == config.vocab_size  # the [unusedN] slots sufficed: the shared tokenizer is unchanged
    config._check_token_ids()
    return config, vocab, num_labels + 1 if token_types == "per_label" else config.type_vocab_size


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=OPTIONS, reveal=REVEAL, texts=TEXTS, data=st.data())
def test_collated_batches_keep_every_invariant(bert_dir, tokenizer, options, reveal, texts, data):
    config, vocab, type_vocab = model_config(str(bert_dir), tokenizer, **options)
    n = config.num_labels
    labels = data.draw(st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n), min_size=len(texts)))
    labels = labels[: len(texts)]
    if n < 2:
        reveal["reveal_strategy"] = "none"
    features = [{**tokenizer(" ".join(words)), "labels": row} for words, row in zip(texts, labels, strict=True)]
    batch = DataCollatorForLabelMask(tokenizer, config, **reveal)(features)

    ids, mask, types, slots = (
        batch["input_ids"],
        batch["attention_mask"],
        batch["token_type_ids"],
        batch["slot_positions"],
    )
    assert ids.shape == mask.shape == types.shape and ids.shape[1] <= config.max_position_embeddings
    assert slots.shape == batch["labels"].shape == (len(texts), n)
    assert ((ids >= 0) & (ids < vocab)).all() and (types < type_vocab).all()
    template, offsets, _ = config.template_token_ids()
    template = torch.tensor(template)
    starts = slots[:, :1] - config.prompt_tokens_before
    for row in range(len(texts)):
        length = int(mask[row].sum())
        assert mask[row, :length].all() and not mask[row, length:].any()  # right padding only
        assert ids[row, 0] == tokenizer.cls_token_id and ids[row, length - 1] == tokenizer.sep_token_id
        span = ids[row, starts[row, 0] : starts[row, 0] + template.numel()].clone()
        assert span.numel() == template.numel()  # the whole template survived truncation
        slot_ids = ids[row, slots[row]]
        shown = (slot_ids == config.yes_token_id) | (slot_ids == config.no_token_id)
        span[offsets] = template[offsets]  # slots may show YES/NO; every other template token is intact
        assert torch.equal(span, template)
        assert torch.equal(shown | (slot_ids == template[offsets]), torch.ones(n, dtype=torch.bool))
        targets = batch["labels"][row] != -100
        assert torch.equal(targets, ~shown)  # targets exactly at the slots left masked
        assert torch.equal(batch["labels"][row][targets], torch.tensor(labels[row], dtype=torch.float)[targets])
        text_tokens = min(len(tokenizer(" ".join(texts[row]))["input_ids"]) - 2, config.text_budget())
        assert length == text_tokens + template.numel() + 3
    if "mlm_targets" in batch:
        in_template = torch.zeros_like(ids, dtype=torch.bool)
        for row in range(len(texts)):
            in_template[row, starts[row, 0] : starts[row, 0] + template.numel()] = True
        assert (batch["mlm_targets"][in_template] == -100).all()  # MLM never targets the template
