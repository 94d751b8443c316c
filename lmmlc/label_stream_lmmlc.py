"""The label stream: the text is encoded once by the BERT layers, and label slots form a second stream that,
at every layer, attends to that layer's text keys/values, to its own tokens and to the revealed labels of its group.
`label_logits` is the model's one entry point for scoring labels (shortlist and ranker fusion included).

Used for training (differentiable), one-pass scoring and decoding in rounds (the text is encoded once,
rounds rerun only the label stream), and by the single-sequence text cache, which runs the same layer step.
Travels to the Hub with `modeling_lmmlc.py`: imports only torch and transformers.

Assumptions, checked by `check_stream_support`: absolute position embeddings (label positions are set
explicitly) and BERT's attention scaling (1/sqrt(head size), SDPA's default).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .configuration_lmmlc import MASKED, YES
from .shortlist_lmmlc import fuse_ranker, merge_shortlisted, shortlist

STREAM_CHUNK_TOKENS = 65536
"""Most label-stream tokens (label tokens, plus twice the text length per group for its copy of the text's keys
and values) scored at once without gradients; larger label sets are split into chunks of groups (results are
identical, memory stays bounded)."""


def is_exporting() -> bool:
    """Whether the model is being traced for export (`torch.export`, `torch.onnx.export`): the graph must hold for every
    input, so checks and shortcuts that read tensor values are skipped (`lmmlc.onnx` checks its inputs itself)."""
    exporting = getattr(torch.compiler, "is_exporting", None)
    return bool(exporting is not None and exporting()) or torch.onnx.is_in_onnx_export()


def check_stream_support(config) -> None:
    """Reject encoders whose layers the stream cannot re-run exactly (raises ValueError naming the option)."""
    position = getattr(config, "position_embedding_type", "absolute") or "absolute"
    if position != "absolute":
        raise ValueError(
            f"The label stream and the text cache need absolute position embeddings; this encoder uses "
            f"position_embedding_type={position!r}. Use label_stream=False and text_attends_labels=True."
        )


def shown_tokens(state: torch.Tensor, masked: torch.Tensor, config) -> torch.Tensor:
    """The token each slot shows: the YES/NO token where its state is revealed, `masked` (the slot's mask token,
    same shape as `state`) where it is MASKED."""
    answer = torch.where(state == YES, config.yes_token_id, config.no_token_id)
    return torch.where(state == MASKED, masked, answer)


def _heads(attention: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """`(batch, len, hidden)` -> `(batch, heads, len, head_size)`."""
    batch, length, _ = x.shape
    return x.view(batch, length, attention.num_attention_heads, attention.attention_head_size).transpose(1, 2)


def keys_values(layer: nn.Module, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A BERT layer's attention keys and values of `hidden`, each `(batch, heads, len, head_size)`."""
    attention = layer.attention.self
    return _heads(attention, attention.key(hidden)), _heads(attention, attention.value(hidden))


def attention_bias(valid: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The additive attention mask of `valid` (True where a key may be attended to), `(batch, 1, 1, keys)` from
    `(batch, keys)` or `(batch, 1, queries, keys)` from `(batch, queries, keys)`: 0 where valid, the dtype's lowest
    value elsewhere. Built once per stream rather than per layer (an exported graph then adds it instead of selecting
    with the boolean mask in every layer)."""
    mask = valid[:, None, :, :] if valid.dim() == 3 else valid[:, None, None, :]
    return torch.zeros(mask.shape, dtype=dtype, device=valid.device).masked_fill(~mask, torch.finfo(dtype).min)


def layer_step(
    layer: nn.Module,
    hidden: torch.Tensor,
    past: tuple[torch.Tensor, torch.Tensor] | None,
    bias: torch.Tensor,
    outputs: torch.Tensor | None = None,
    dropout: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One BERT layer for `hidden` attending to `past` keys/values and its own; returns (hidden, key, value).

    Args:
        hidden: `(batch, len, hidden)` inputs of the layer.
        past: `(key, value)` of earlier tokens, each `(batch, heads, past_len, head_size)`, or None.
        bias: `attention_bias` of the keys each query may attend to (`past_len + len` keys): `(batch, 1, 1, keys)`,
            or `(batch, 1, len, keys)` per query.
        outputs: `(batch, m)` positions in `hidden` whose outputs to compute (default: all); every
            position still serves as key and value.
        dropout: attention-probability dropout (the layer's own hidden dropouts follow its train mode).
    """
    key, value = keys_values(layer, hidden)
    if outputs is not None:
        hidden = hidden.gather(1, outputs[..., None].expand(-1, -1, hidden.shape[-1]))
        if bias.shape[2] > 1:
            bias = bias.gather(2, outputs[:, None, :, None].expand(-1, -1, -1, bias.shape[-1]))
    query = _heads(layer.attention.self, layer.attention.self.query(hidden))
    batch, length, _ = hidden.shape
    all_keys = key if past is None else torch.cat([past[0], key], dim=2)
    all_values = value if past is None else torch.cat([past[1], value], dim=2)
    context = attend(query, all_keys, all_values, bias.to(query.dtype), dropout)  # to: a no-op but under autocast
    context = context.transpose(1, 2).reshape(batch, length, -1)
    attended = layer.attention.output(context, hidden)
    return layer.output(layer.intermediate(attended), attended), key, value


def attend(query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, bias: torch.Tensor, dropout: float):
    """Scaled dot-product attention, `(batch, heads, queries, head_size)`, of `query` over `keys`/`values`
    `(batch, heads, keys, head_size)` with the additive `bias`. Torch's fused kernel, except in an exported graph:
    there the product is written out with only the queries scaled, so onnxruntime folds the keys' transpose into the
    matrix product (the exporter's decomposition scales both sides, which keeps a transpose per layer)."""
    if not is_exporting():
        return F.scaled_dot_product_attention(query, keys, values, attn_mask=bias, dropout_p=dropout)
    scores = torch.matmul(query * query.shape[-1] ** -0.5, keys.transpose(-1, -2)) + bias
    return torch.matmul(scores.softmax(dim=-1), values)


def attention_dropout(model: nn.Module) -> float:
    """The attention dropout of `model` in train mode, 0 in eval mode."""
    return float(model.config.attention_probs_dropout_prob) if model.training else 0.0


@dataclass
class TextStream:
    """The text encoded once: each layer's keys and values, and which text positions are real.

    Attributes:
        keys / values: per layer, `(batch, heads, text_len, head_size)`.
        valid: `(batch, text_len)` True on real (non-padding) text tokens.
        lengths: `(batch,)` real text tokens per example, [CLS] and [SEP] included.
        last_hidden: `(batch, text_len, hidden)` text output of the last layer, when asked for (joint MLM, the
            label ranker).
    """

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    valid: torch.Tensor
    lengths: torch.Tensor
    last_hidden: torch.Tensor | None = None

    def rows(self, index: torch.Tensor) -> TextStream:
        """The text of examples `index` (repeated as often as they appear)."""
        if (
            not is_exporting()
            and index.numel() == self.valid.shape[0]
            and bool((index == torch.arange(index.numel(), device=index.device)).all())
        ):
            return self
        last = None if self.last_hidden is None else self.last_hidden[index]
        return TextStream(
            [k[index] for k in self.keys], [v[index] for v in self.values], self.valid[index], self.lengths[index], last
        )


def encode_text(
    bert: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    token_type_ids: torch.Tensor | None = None,
    position_ids: torch.Tensor | None = None,
    dropout: float = 0.0,
    full_last_layer: bool = False,
) -> TextStream:
    """Run the text alone through every layer of `bert` (a `BertModel`), keeping each layer's keys and values.

    Args:
        input_ids / attention_mask / token_type_ids / position_ids: `(batch, text_len)`.
        full_last_layer: also compute the last layer's text outputs (skipped by default: labels read
            only the last layer's keys and values).
    """
    valid = attention_mask.bool()
    hidden = bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids, position_ids=position_ids)
    bias = attention_bias(valid, hidden.dtype)
    keys, values = [], []
    layers = bert.encoder.layer
    for i, layer in enumerate(layers):
        if i == len(layers) - 1 and not full_last_layer:
            key, value = keys_values(layer, hidden)
        else:
            hidden, key, value = layer_step(layer, hidden, None, bias, dropout=dropout)
        keys.append(key)
        values.append(value)
    return TextStream(keys, values, valid, valid.long().sum(dim=1), hidden if full_last_layer else None)


def run_label_stream(
    bert: nn.Module,
    text: TextStream,
    label_inputs: dict[str, torch.Tensor],
    slots: torch.Tensor,
    dropout: float = 0.0,
    top_layers: int | None = None,
) -> torch.Tensor:
    """Run label groups through every layer (or the top `top_layers`, entered from the embeddings), each group
    attending to its example's text and to its own tokens.

    Args:
        text: the text of each group's example (`TextStream.rows`), batch = groups.
        label_inputs: `input_ids`, `token_type_ids`, `position_ids` and `valid` (True on real label
            tokens), each `(groups, group_tokens)`, and optionally `attends` `(groups, group_tokens,
            group_tokens)`: which label tokens each label token sees (default: every real one).
        slots: `(groups, group_labels)` position of each label's slot within its group.

    Returns:
        The last layer's hidden state at every slot, `(groups, group_labels, hidden)`.
    """
    hidden = bert.embeddings(
        input_ids=label_inputs["input_ids"],
        token_type_ids=label_inputs["token_type_ids"],
        position_ids=label_inputs["position_ids"],
    )
    valid = torch.cat([text.valid, label_inputs["valid"]], dim=1)
    if label_inputs.get("attends") is not None:
        size = label_inputs["attends"].shape[1]
        valid = torch.cat([text.valid[:, None, :].expand(-1, size, -1), label_inputs["attends"]], dim=2)
    bias = attention_bias(valid, hidden.dtype)
    layers = bert.encoder.layer
    first = len(layers) - (top_layers or len(layers))
    for i, layer in enumerate(layers):
        if i < first:
            continue
        outputs = slots if i == len(layers) - 1 else None  # only the slots' last outputs are read
        past = (text.keys[i], text.values[i])
        hidden, _, _ = layer_step(layer, hidden, past, bias, outputs, dropout)
    return hidden


def group_labels(
    label_ids: torch.Tensor, label_state: torch.Tensor | None, group_size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split each example's labels into groups of `group_size` (the last one padded with -1).

    Args:
        label_ids: `(batch, k)` label indices per example.
        label_state: `(batch, k)` -1 masked, 0 shown as NO, 1 shown as YES; None = all masked.

    Returns:
        ids and state `(batch * groups, group_size)` (-1 on padding), and each group's example `(batch * groups,)`.
    """
    batch, k = label_ids.shape
    groups = -(-k // group_size)
    pad = groups * group_size - k
    if label_state is None:
        label_state = torch.full_like(label_ids, -1)
    ids = F.pad(label_ids, (0, pad), value=-1).reshape(batch * groups, group_size)
    state = F.pad(label_state, (0, pad), value=-1).reshape(batch * groups, group_size)
    example = torch.arange(batch, device=label_ids.device).repeat_interleave(groups)
    return ids, state, example


def template_table(config, device: torch.device) -> torch.Tensor:
    """Every label's template token ids (prompts and all-masked slot), `(num_labels, tokens_per_label)`."""
    template, _, _ = config.template_token_ids()
    return torch.tensor(template, dtype=torch.long, device=device).view(config.num_labels, config.tokens_per_label)


def _label_positions(config, text_lengths: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Position ids `(groups, group_size * tokens_per_label)` of label groups `ids` `(groups, group_size)`: after
    the example's text, shifted back when they would pass the last position. `revealed`: every label at the same
    positions; `revealed_positions`: each label at its own place,
    label index modulo `label_group_size` (so it keeps its position whatever labels are sampled or grouped with it).
    """
    width, device = config.tokens_per_label, text_lengths.device
    offsets = torch.arange(width, device=device)
    if config.label_stream_attention == "revealed":
        places, span = torch.zeros_like(ids), 1
    else:
        span = min(config.label_group_size, config.num_labels)
        places = ids.clamp(min=0) % span
    start = text_lengths.clamp(max=config.max_position_embeddings - span * width)
    return (start[:, None, None] + places[..., None] * width + offsets).reshape(ids.shape[0], -1)


def label_group_inputs(
    config,
    table: torch.Tensor,
    ids: torch.Tensor,
    state: torch.Tensor,
    text_lengths: torch.Tensor,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Token inputs of label groups: each label's template tokens, its slot showing mask, YES or NO.

    Positions continue after the example's text (`[CLS] text [SEP]`), shifted back when they would pass
    the last position (the text can then use every position). With `label_stream_attention="revealed"`
    every label takes the same positions and its tokens see only its own tokens and the revealed labels'
    (`attends`), so a masked label's score does not depend on which other labels share its group;
    "revealed_positions" sees as "revealed", each label at a position of its own (label index modulo
    `label_group_size`), so a revealed label is named by its position and a masked label's score still does not
    depend on the other labels of its group.

    Args:
        config: a `LabelMaskConfig` with template token ids.
        table: `template_table(config)`.
        ids / state: `(groups, group_size)` label indices (-1: padding) and states.
        text_lengths: `(groups,)` text tokens of each group's example.

    Returns:
        `input_ids`, `token_type_ids`, `position_ids`, `valid` of shape `(groups, group_size * tokens_per_label)`,
        `attends` `(groups, size, size)`, and slots `(groups, group_size)`, each label's slot within its group.
    """
    device, width = ids.device, config.tokens_per_label
    real = ids >= 0
    tokens = table[ids.clamp(min=0)]  # (groups, group_size, width)
    slot = config.prompt_tokens_before
    tokens[..., slot] = shown_tokens(state, tokens[..., slot], config)
    tokens = tokens.masked_fill(~real[..., None], config.pad_token_id or 0)
    size = ids.shape[1] * width
    types = torch.zeros_like(tokens)
    if config.token_type_strategy == "same":
        types = torch.ones_like(tokens)
    elif config.token_type_strategy == "per_label":
        types = (ids.clamp(min=0) + 1)[..., None].expand_as(tokens)
    valid = real[..., None].expand_as(tokens).reshape(-1, size)
    positions = _label_positions(config, text_lengths, ids)
    owner = torch.arange(size, device=device) // width  # a label sees its own tokens and the revealed labels only
    shown = (state != MASKED)[..., None].expand_as(tokens).reshape(-1, size)
    attends = valid[:, None, :] & ((owner[:, None] == owner[None, :])[None] | shown[:, None, :])
    inputs = {
        "input_ids": tokens.reshape(-1, size),
        "token_type_ids": types.reshape(-1, size),
        "position_ids": positions,
        "valid": valid,
        "attends": attends,
    }
    slots = (torch.arange(ids.shape[1], device=device) * width + slot).expand_as(ids)
    return inputs, slots


def label_logits(
    model: nn.Module,
    text: TextStream,
    candidate_ids: torch.Tensor | None = None,
    candidate_state: torch.Tensor | None = None,
    ranker_logits: torch.Tensor | None = None,
) -> torch.Tensor:
    """Logits `(batch, k)` of `candidate_ids` `(batch, k)` (default: every label) of a label-stream `model` over encoded
    `text`: the stream's cloze scores plus the pooled text head's (when the model has one). In eval mode with a label
    ranker, all-masked scoring of every label scores only the ranker's shortlist of `config.label_shortlist_size`
    labels with the stream (`merge_shortlisted` places the rest; that size set to None or 0 scores every label), and
    every scored label's logit gains `config.ranker_score_weight` times the ranker's log-probability of it
    (`fuse_ranker`). `ranker_logits` `(batch, num_labels)`: the ranker's, when already computed."""
    config = model.config
    if config.label_shortlist_size and model.ranker is None:
        raise ValueError(
            f"config.label_shortlist_size={config.label_shortlist_size} needs the label ranker, and this model was "
            "trained without one (label_shortlist_size 0 in training): it scores every label. Set "
            "label_shortlist_size back to 0, or train with --label_shortlist_size N."
        )
    weight = getattr(config, "ranker_score_weight", 0.0)
    ranked = model.ranker is not None and not model.training
    if not ranked or not (weight or (config.label_shortlist_size and candidate_ids is None)):
        return stream_logits(model, text, candidate_ids, candidate_state)
    blocks = getattr(config, "label_blocks", None)
    if candidate_ids is None and blocks and len(blocks) > 1:  # labels added later are ranked apart
        pieces = [
            _ranked_logits(model, text, None, state, model.ranker_logits(text, start, size), start)
            for start, size, state in _label_blocks(blocks, candidate_state)
        ]
        return torch.cat(pieces, dim=1)
    ranker_logits = model.ranker_logits(text) if ranker_logits is None else ranker_logits
    return _ranked_logits(model, text, candidate_ids, candidate_state, ranker_logits)


def _ranked_logits(
    model: nn.Module,
    text: TextStream,
    candidate_ids: torch.Tensor | None,
    candidate_state: torch.Tensor | None,
    ranker_logits: torch.Tensor,
    start: int = 0,
) -> torch.Tensor:
    """Eval-mode logits of a ranked model for one block of labels, `start..start + size` with `ranker_logits`
    `(batch, size)` its ranker's (every label: start 0, size num_labels): `(batch, k)` for `candidate_ids` `(batch, k)`
    (given only with every label as the block), else `(batch, size)`, shortlisted when `config.label_shortlist_size`
    is below the block's size and every label is masked. A block is shortlisted, scored and fused with its own ranker
    rows and its own log-softmax, as it was before later blocks were added, so old labels keep their scores to the bit
    and a new label never pushes an old one out of a shortlist."""
    config, (batch, size) = model.config, ranker_logits.shape
    limit = config.label_shortlist_size
    shortlists = (
        bool(limit)
        and candidate_ids is None
        and limit < size
        and (candidate_state is None or bool((candidate_state == MASKED).all()))  # checked last: it syncs
    )
    if shortlists:
        ids, candidate_state = shortlist(ranker_logits, limit), None
    elif candidate_ids is not None:
        ids = candidate_ids.long()
    else:
        ids = torch.arange(size, device=ranker_logits.device).expand(batch, size)
    logits = stream_logits(model, text, ids + start, candidate_state, pooled_head=False)
    if model.text_head is not None:
        logits = logits + model.text_head(text, start, size).gather(1, ids)
    scored = fuse_ranker(logits, ranker_logits, ids, getattr(config, "ranker_score_weight", 0.0))
    return merge_shortlisted(ranker_logits, ids, scored) if shortlists else scored


def stream_logits(
    model: nn.Module,
    text: TextStream,
    candidate_ids: torch.Tensor | None = None,
    candidate_state: torch.Tensor | None = None,
    pooled_head: bool = True,
) -> torch.Tensor:
    """Logits `(batch, k)` of `candidate_ids` `(batch, k)` (default: every label) over encoded `text`, without the
    label ranker: the stream's cloze scores, plus the pooled text head's when `model` has one (and `pooled_head`).
    With `config.label_blocks` (labels added later), every label's logits are computed block by block.

    Without gradients, groups are scored in chunks of at most `STREAM_CHUNK_TOKENS` tokens (label tokens plus
    twice the text length per group, for its copy of the text's keys and values); an exported graph scores them in one.
    """
    config = model.config
    check_stream_support(config)
    batch = text.valid.shape[0]
    blocks = getattr(config, "label_blocks", None)
    if candidate_ids is None and blocks and len(blocks) > 1:  # labels added later are scored apart
        return _stream_logits_by_block(model, text, blocks, candidate_state)
    candidate_ids = _checked_candidates(config, batch, candidate_ids, candidate_state, text.valid.device)
    size = max(1, min(config.label_group_size, candidate_ids.shape[1]))
    ids, state, example = group_labels(candidate_ids, candidate_state, size)
    rows = ids.shape[0]
    if not torch.is_grad_enabled() and not is_exporting():  # a group row also holds a copy of its text's keys/values
        rows = max(1, STREAM_CHUNK_TOKENS // (size * config.tokens_per_label + 2 * text.valid.shape[1]))
    try:
        table = template_table(config, ids.device)
        if rows >= ids.shape[0]:
            pieces = [_score_groups(model, text, table, ids, state, example)]
        else:
            chunks = torch.arange(ids.shape[0], device=ids.device).split(rows)
            pieces = [_score_groups(model, text, table, ids[p], state[p], example[p]) for p in chunks]
    except RuntimeError as error:
        if "memory" not in str(error).lower():
            raise
        raise RuntimeError(
            f"The label stream ran out of memory scoring {candidate_ids.shape[1]} labels for each of {batch} "
            f"examples in groups of {size} ({ids.shape[0]} group rows): lower --label_sample_size, "
            "--per_device_train_batch_size or --label_group_size, or use --label_stream_layers."
        ) from error
    logits = torch.cat(pieces).reshape(batch, -1)[:, : candidate_ids.shape[1]]
    if model.text_head is None or not pooled_head:
        return logits
    return logits + model.text_head(text).gather(1, candidate_ids)


def block_sigmoid(logits: torch.Tensor, config) -> torch.Tensor:
    """Probabilities of every label's `logits` `(batch, num_labels)`, block by block of `config.label_blocks`: each
    block's sigmoid runs over a tensor of the shape it had before later labels were added, since a vectorised sigmoid
    can round the last elements of a longer tensor differently."""
    blocks = getattr(config, "label_blocks", None)
    if not blocks or len(blocks) < 2 or logits.shape[-1] != sum(blocks):
        return torch.sigmoid(logits)
    return torch.cat([torch.sigmoid(part.contiguous()) for part in logits.split(blocks, dim=-1)], dim=-1)


def _stream_logits_by_block(
    model: nn.Module, text: TextStream, blocks: list[int], candidate_state: torch.Tensor | None
) -> torch.Tensor:
    """Logits `(batch, num_labels)` of every label, each block of `config.label_blocks` grouped on its own, as it
    was grouped before later blocks were added (`add_labels`): the same shapes, so the same scores to the bit."""
    batch, device, pieces = text.valid.shape[0], text.valid.device, []
    for start, size, state in _label_blocks(blocks, candidate_state):
        ids = torch.arange(start, start + size, device=device).expand(batch, size)
        piece = stream_logits(model, text, ids, state, pooled_head=False)
        pieces.append(piece if model.text_head is None else piece + model.text_head(text, start, size))
    return torch.cat(pieces, dim=1)


def _label_blocks(blocks: list[int], candidate_state: torch.Tensor | None):
    """Each block of `config.label_blocks` (labels added later): its first label, its size and its columns of
    `candidate_state` `(batch, num_labels)` (None when that is None)."""
    start = 0
    for size in blocks:
        yield start, size, None if candidate_state is None else candidate_state[:, start : start + size]
        start += size


def _checked_candidates(
    config, batch: int, candidate_ids: torch.Tensor | None, candidate_state: torch.Tensor | None, device: torch.device
) -> torch.Tensor:
    """`candidate_ids` `(batch, k)` as long (every label when None), refused when malformed."""
    n = config.num_labels
    if candidate_ids is None:
        candidate_ids = torch.arange(n, device=device).expand(batch, n)
    candidate_ids = candidate_ids.long()
    if candidate_ids.dim() != 2 or candidate_ids.shape[0] != batch:
        raise ValueError(f"candidate_ids has shape {tuple(candidate_ids.shape)}, expected ({batch}, k).")
    if not is_exporting() and candidate_ids.numel() and (candidate_ids.min() < 0 or candidate_ids.max() >= n):
        raise ValueError(f"candidate_ids must lie in 0..{n - 1} (the label indices).")
    if candidate_state is not None and candidate_state.shape != candidate_ids.shape:
        raise ValueError(
            f"candidate_state has shape {tuple(candidate_state.shape)}, expected {tuple(candidate_ids.shape)}."
        )
    return candidate_ids


def _score_groups(
    model: nn.Module, text: TextStream, table: torch.Tensor, ids: torch.Tensor, state: torch.Tensor, example
) -> torch.Tensor:
    """Cloze logits `(groups, group_size)` of label groups `ids`/`state` `(groups, group_size)` over their examples'
    text (`example` `(groups,)`); `table` is `template_table(config)`, built once per `stream_logits` call."""
    inputs, slots = label_group_inputs(model.config, table, ids, state, text.lengths[example])
    dropout, layers = attention_dropout(model), model.config.label_stream_layers
    return model._slot_logits(run_label_stream(model.bert, text.rows(example), inputs, slots, dropout, layers))
