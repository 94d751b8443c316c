"""The label template of the single-sequence model: inserting it into tokenized text in one vectorised pass,
showing revealed labels in it, and the attention mask that keeps text blind to it. Travels to the Hub with
`modeling_lmmlc.py`: imports only torch, transformers and the other travelling files."""

from __future__ import annotations

import torch
from transformers import __version__ as transformers_version

from .configuration_lmmlc import LabelMaskConfig
from .label_stream_lmmlc import shown_tokens

LEGACY_MASKS = int(transformers_version.split(".")[0]) < 5
"""transformers 4.x takes a custom mask as `(batch, seq, seq)` of 0/1 (and makes it additive itself); 5.x
passes a 4D mask through as it is."""


def template_inputs(
    config: LabelMaskConfig,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    token_type_ids: torch.Tensor | None = None,
    slot_positions: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The single-sequence model's inputs (input_ids, attention_mask, token_type_ids, slot_positions): a collator
    batch (with `slot_positions`) passes through, plain tokenizer output `(batch, text_len)` gets the all-masked
    template (`insert_label_template`)."""
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if slot_positions is None:
        built = insert_label_template(input_ids, attention_mask, config)
        return built["input_ids"], built["attention_mask"], built["token_type_ids"], built["slot_positions"]
    if token_type_ids is None:
        token_type_ids = torch.zeros_like(input_ids)
    return input_ids, attention_mask, token_type_ids, slot_positions


def _template_tensors(config: LabelMaskConfig, device: torch.device) -> tuple[torch.Tensor, ...]:
    ids, offsets, owners = config.template_token_ids()
    return tuple(torch.tensor(x, dtype=torch.long, device=device) for x in (ids, offsets, owners))


def insert_label_template(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    config: LabelMaskConfig,
    label_state: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Insert the label template into right-padded `[CLS] text [SEP]` rows; truncate text, never the template.

    Args:
        input_ids: `(batch, text_len)` tokenizer output with special tokens, right-padded.
        attention_mask: `(batch, text_len)`, 1 on real tokens.
        config: the model config with template token ids assigned.
        label_state: `(batch, num_labels)`: -1 masked, 0 shown as NO, 1 shown as YES; None = all masked.

    Returns:
        input_ids, attention_mask, token_type_ids and text_mask (True on text tokens) of shape
        `(batch, seq_len)`, and slot_positions `(batch, num_labels)`, each label's slot position.
    """
    if config.label_stream:
        raise ValueError(
            "This config runs the label stream (label_stream=True): labels are not inserted into the text's "
            "sequence. Give the model the plain tokenizer output (DataCollatorForLabelMask does)."
        )
    budget = config.text_budget()
    batch, device = input_ids.shape[0], input_ids.device
    template, offsets, owners = _template_tensors(config, device)
    size = template.numel()
    lengths = attention_mask.long().sum(dim=1)
    if (lengths < 3).any():
        row = int((lengths < 3).nonzero()[0])
        raise ValueError(f"Example {row} has an empty text: every text needs at least one token besides [CLS]/[SEP].")
    if label_state is not None and label_state.shape != (batch, config.num_labels):
        raise ValueError(f"label_state has shape {tuple(label_state.shape)}, expected ({batch}, {config.num_labels}).")
    template = template.expand(batch, size).clone()
    if label_state is not None:
        template = show_labels(template, offsets.expand(batch, -1), label_state.to(device), config)
    keep = (lengths - 2).clamp(max=budget)[:, None]
    text_start, tmpl_start = 1, keep + 2  # [CLS] text [SEP] template [SEP]
    total = keep + size + 3
    pos = torch.arange(int(total.max()), device=device)[None, :]
    out = torch.full((batch, pos.shape[1]), config.pad_token_id or 0, dtype=input_ids.dtype, device=device)
    in_text = (pos >= text_start) & (pos < text_start + keep)
    in_tmpl = (pos >= tmpl_start) & (pos < tmpl_start + size)
    text_src = (pos - text_start + 1).clamp(0, input_ids.shape[1] - 1).expand(batch, -1)
    tmpl_src = (pos - tmpl_start).clamp(0, size - 1)
    out = torch.where(in_text, input_ids.gather(1, text_src), out)
    out = torch.where(in_tmpl, template.gather(1, tmpl_src), out)
    sep = input_ids.gather(1, lengths[:, None] - 1)
    first_sep = keep + 1
    out[:, :1] = input_ids[:, :1]
    out.scatter_(1, first_sep, sep).scatter_(1, total - 1, sep)
    token_types = torch.zeros_like(out)
    if config.token_type_strategy == "same":
        token_types = in_tmpl.long().expand(batch, -1)
    elif config.token_type_strategy == "per_label":
        token_types = torch.where(in_tmpl, owners[tmpl_src] + 1, token_types)
    return {
        "input_ids": out,
        "attention_mask": (pos < total).long(),
        "token_type_ids": token_types.contiguous(),
        "slot_positions": tmpl_start + offsets[None, :],
        "text_mask": in_text,
    }


def text_blind_attention_mask(
    attention_mask: torch.Tensor, template: torch.Tensor, dtype: torch.dtype, additive: bool
) -> torch.Tensor:
    """4D mask `(batch, 1, seq, seq)`: every token sees valid text tokens; only template tokens see the template.

    Boolean (True = attend) for SDPA, or additive (0 / dtype min) for eager attention.
    """
    allowed = attention_mask.bool()[:, None, :] & (template[:, :, None] | ~template[:, None, :])
    if not additive:
        return allowed[:, None]
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, torch.finfo(dtype).min)[
        :, None
    ]


def show_labels(
    input_ids: torch.Tensor, slot_positions: torch.Tensor, state: torch.Tensor, config: LabelMaskConfig
) -> torch.Tensor:
    """Copy of `input_ids` whose slots show YES or NO where `state` reveals them; MASKED keeps the mask."""
    return input_ids.scatter(1, slot_positions, shown_tokens(state, input_ids.gather(1, slot_positions), config))


def template_positions_mask(config: LabelMaskConfig, slot_positions: torch.Tensor, seq_len: int) -> torch.Tensor:
    """`(batch, seq_len)` bool, True on the label template's tokens."""
    start = slot_positions[:, :1] - config.prompt_tokens_before
    pos = torch.arange(seq_len, device=slot_positions.device)[None, :]
    return (pos >= start) & (pos < start + config.num_labels * config.tokens_per_label)
