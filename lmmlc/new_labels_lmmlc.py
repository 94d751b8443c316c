"""Labels added to a trained label-stream model by name (`BertForLabelMaskClassification.add_labels`).

A label of the label stream is its own template tokens read through the shared YES/NO cloze head; with the stream's
attention a masked label sees only the text and its own tokens, so a new label is new tokens (their embeddings
started from its name or description, as warm start starts every label), a zero row of the pooled text head (it
starts from its cloze score alone) and, with a label ranker, a ranker vector read from the name encoded as a text.
The old labels' cloze and text-head scores do not move. `new_label_parameters` lists what few-shot training of the
new labels may change. Travels to the Hub with `modeling_lmmlc.py`: imports only torch, transformers and the other
travelling files.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedTokenizerBase

from .configuration_lmmlc import check_tokenizer, label_names_of
from .label_stream_lmmlc import encode_text
from .warm_start_lmmlc import _mean_embedding, _unused_token_ids, grow_token_types, grow_vocabulary


def check_new_labels(config: PretrainedConfig, names: list[str], descriptions: list[str] | None) -> None:
    """Refuse names that are empty, repeated or already the model's (`config`'s), descriptions that do not pair with
    them, and models whose old labels would move (single sequence: every slot attends to the others)."""
    if not getattr(config, "label_stream", False):
        raise ValueError(
            "add_labels needs a label-stream model (label_stream=True, the default): in a single sequence every "
            "label's slot attends to the others, so a new label would move the old labels' scores. Retrain with the "
            "new labels."
        )
    if config.label_stream_attention == "revealed_positions" and config.num_labels < config.label_group_size:
        raise ValueError(
            "This model places each label at a position of its own among min(label_group_size, num_labels) "
            f"(label_stream_attention='revealed_positions', {config.num_labels} labels in groups of "
            f"{config.label_group_size}): a new label would move the old labels' positions and scores. Retrain with "
            "the new labels, or use a model with label_stream_attention='revealed' (the default)."
        )
    if isinstance(names, str) or not names:
        raise ValueError(f"Give the new labels as a non-empty list of names, got {names!r}.")
    blank = [name for name in names if not isinstance(name, str) or not name.strip()]
    if blank:
        raise ValueError(f"Label names must be non-empty texts; got {blank!r}.")
    old = set(label_names_of(config))
    taken = sorted({name for name in names if name in old} | {name for name in names if names.count(name) > 1})
    if taken:
        raise ValueError(f"Label names must be new and unique; already the model's or repeated: {taken}.")
    if descriptions is not None and len(descriptions) != len(names):
        raise ValueError(f"Give one description per new label: {len(descriptions)} for {len(names)} names.")


def _free_token_ids(model: nn.Module, tokenizer: PreTrainedTokenizerBase, count: int) -> list[int]:
    """`count` token ids for new template tokens: `[unusedN]` slots no label uses, else tokens added to the tokenizer
    (the embeddings and the cloze head's bias grow to match)."""
    config = model.config
    used = set(config.template_token_ids()[0]) | {config.yes_token_id, config.no_token_id}
    free = [i for i in _unused_token_ids(tokenizer) if i not in used and i < config.vocab_size]
    if len(free) >= count:
        return free[:count]
    vocabulary = tokenizer.get_vocab()
    start = sum(token.startswith("[lmmlc_") for token in vocabulary)
    tokens = [f"[lmmlc_{start + k}]" for k in range(count)]
    tokenizer.add_tokens(tokens, special_tokens=True)
    grow_vocabulary(model, len(tokenizer))
    return tokenizer.convert_tokens_to_ids(tokens)


def _grown_linear(old: nn.Linear, rows: int) -> nn.Linear:
    """`old` with `rows` more output rows, zero; the old rows' weights unchanged."""
    new = nn.Linear(old.in_features, old.out_features + rows).to(device=old.weight.device, dtype=old.weight.dtype)
    with torch.no_grad():
        new.weight.zero_()
        new.bias.zero_()
        new.weight[: old.out_features] = old.weight
        new.bias[: old.out_features] = old.bias
    return new


@torch.no_grad()
def _grow_heads(model: nn.Module, tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> None:
    """The pooled text head gains zero rows; the label ranker gains a vector per new label, the mean-pooled encoding
    of its name (or description) as a text, and the old labels' mean bias."""
    rows = len(texts)
    if model.text_head is not None:
        grown = _grown_linear(model.text_head, rows)
        model.text_head.weight, model.text_head.bias = grown.weight, grown.bias
        model.text_head.out_features += rows
    if model.ranker is not None:
        from .modeling_lmmlc import masked_mean_pool  # modeling imports this file

        batch = tokenizer(texts, padding=True, return_tensors="pt").to(model.device)
        was_training = model.training
        model.eval()
        text = encode_text(model.bert, batch["input_ids"], batch["attention_mask"], full_last_layer=True)
        model.train(was_training)
        vectors = masked_mean_pool(text.last_hidden, text.valid).to(model.ranker.label_vectors.dtype)
        bias = model.ranker.label_bias.mean().expand(rows)
        model.ranker.label_vectors = nn.Parameter(torch.cat([model.ranker.label_vectors.data, vectors]))
        model.ranker.label_bias = nn.Parameter(torch.cat([model.ranker.label_bias.data, bias]))


def add_labels(
    model: nn.Module,
    names: list[str],
    tokenizer: PreTrainedTokenizerBase,
    descriptions: list[str] | None = None,
) -> list[int]:
    """Add labels `names` to a trained label-stream `model` (in place); returns their indices.

    Each new label gets its template tokens (free `[unusedN]` slots, else tokens added to `tokenizer`: save it with
    the model), their embeddings the mean of its name's word pieces (or its description's), the global threshold
    until thresholds are tuned again, a zero row of the pooled text head and a ranker vector from its name. The old
    labels keep their indices and their cloze and pooled-head scores.
    """
    config = model.config
    check_new_labels(config, names, descriptions)
    check_tokenizer(tokenizer, config, "the tokenizer given to add_labels")
    texts = list(descriptions or names)
    old_count, width = config.num_labels, config.prompt_tokens_before + config.prompt_tokens_after
    own = width + (1 if config.mask_mode == "per_label" else 0)
    ids = _free_token_ids(model, tokenizer, own * len(names))
    groups = [ids[k * own : (k + 1) * own] for k in range(len(names))]
    config.label_names = [*label_names_of(config), *names]
    config.prompt_token_ids = [*(config.prompt_token_ids or [[]] * old_count), *(g[:width] for g in groups)]
    if config.mask_mode == "per_label":
        config.label_mask_token_ids = [*config.label_mask_token_ids, *(g[width] for g in groups)]
    config.label_blocks = [*(config.label_blocks or [old_count]), len(names)]  # the old labels keep their groups
    config.check_label_blocks()
    if config.label_thresholds is not None:
        config.label_thresholds = [*config.label_thresholds, *[config.threshold] * len(names)]
    if config.decode_order is not None:
        config.decode_order = [*config.decode_order, *range(old_count, config.num_labels)]
    config._check_token_ids()
    weight = model.bert.get_input_embeddings().weight
    fallback = tokenizer.mask_token_id if tokenizer.mask_token_id is not None else tokenizer.unk_token_id
    with torch.no_grad():
        for group, text in zip(groups, texts, strict=True):
            weight[group] = _mean_embedding(weight, tokenizer, text, fallback)
    if config.token_type_strategy == "per_label":
        types = model.bert.embeddings.token_type_embeddings.num_embeddings
        grow_token_types(model, types + len(names), kept=types)
    _grow_heads(model, tokenizer, texts)
    return list(range(old_count, config.num_labels))


def new_label_parameters(model: nn.Module, label_ids: list[int]) -> dict[str, torch.Tensor]:
    """Per parameter that holds the labels `label_ids`, a 0/1 mask of the entries that are theirs (their template
    tokens' embedding rows, their pooled-head rows and biases, their ranker vectors and biases): few-shot training
    updates only these entries."""
    config = model.config
    tokens = [t for i in label_ids for t in config.prompt_token_ids[i]]
    if config.mask_mode == "per_label":
        tokens += [config.label_mask_token_ids[i] for i in label_ids]
    masks = {}
    embedding = model.bert.get_input_embeddings().weight
    masks["bert.embeddings.word_embeddings.weight"] = _row_mask(embedding, tokens)
    if config.token_type_strategy == "per_label":
        types = model.bert.embeddings.token_type_embeddings.weight
        masks["bert.embeddings.token_type_embeddings.weight"] = _row_mask(types, [i + 1 for i in label_ids])
    if model.text_head is not None:
        masks["text_head.weight"] = _row_mask(model.text_head.weight, label_ids)
        masks["text_head.bias"] = _row_mask(model.text_head.bias, label_ids)
    if model.ranker is not None:
        masks["ranker.label_vectors"] = _row_mask(model.ranker.label_vectors, label_ids)
        masks["ranker.label_bias"] = _row_mask(model.ranker.label_bias, label_ids)
    return masks


def _row_mask(parameter: torch.Tensor, rows: list[int]) -> torch.Tensor:
    mask = torch.zeros_like(parameter, dtype=torch.bool)
    mask[rows] = True
    return mask
