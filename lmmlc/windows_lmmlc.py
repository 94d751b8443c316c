"""Whole documents: a text longer than one window is split into windows that the encoder runs apart (batched
together), and whose token states are laid side by side again, so the label stream attends to, and the pooled heads
average over, every window of an example. Travels to the Hub: imports only torch and the stream.

A tokenized text is `[CLS] body [SEP]` (right-padded); window w holds `[CLS] body[w * stride : w * stride + size - 2]
[SEP]`, positions 0.. of its own, so no window passes the encoder's positions. A window past the end of a shorter
text of the batch holds no token (all padding): it is not encoded, and its states are masked.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .label_stream_lmmlc import TextStream, encode_text, is_exporting


@dataclass
class Windows:
    """A batch of texts cut into windows.

    Attributes:
        input_ids / attention_mask: `(batch * count, size)` every window of every text (text-major).
        used: `(batch * count,)` True where the window holds tokens (the others are all padding).
        count: windows per text in this batch (the longest text's, at most the config's `max_windows`).
        sources: `(batch * count, size)` each window token's position in its text's `input_ids` (-1 on padding), to
            map per-token results back (`evidence_lmmlc.py`).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    used: torch.Tensor
    count: int
    sources: torch.Tensor

    def used_rows(self, x: torch.Tensor) -> torch.Tensor:
        """The rows of `x` `(batch * count, ...)` of used windows (every row in an exported graph)."""
        if is_exporting() or bool(self.used.all()):
            return x
        return x[self.used]

    def laid(self, states: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """States of the `used_rows` windows, `(used, ..., size, ...)` with a window's tokens along `dim`, laid
        side by side per text: `(batch, ..., count * size, ...)` (unused windows: zeros)."""
        if states.shape[0] < self.used.shape[0]:
            full = states.new_zeros((self.used.shape[0], *states.shape[1:]))
            states = full.index_copy(0, self.used.nonzero().squeeze(1), states)
        split = states.reshape(-1, self.count, *states.shape[1:])
        return split.movedim(1, dim).flatten(dim, dim + 1)

    def valid(self) -> torch.Tensor:
        """`(batch, count * size)` True on the real tokens of every window."""
        return self.laid(self.attention_mask.bool())

    def pooled(self, states: torch.Tensor) -> torch.Tensor:
        """Mean over the used windows of per-window vectors `(used, hidden)` -> `(batch, hidden)`."""
        laid = self.laid(states[:, None], 1)  # (batch, count, hidden)
        used = self.used.view(-1, self.count, 1).to(laid.dtype)
        return (laid * used).sum(dim=1) / used.sum(dim=1)


def split_windows(input_ids: torch.Tensor, attention_mask: torch.Tensor, config) -> Windows | None:
    """The windows of `input_ids` / `attention_mask` `(batch, seq_len)` (`[CLS] body [SEP]`, right-padded), or None
    when the config has no windows or every text fits one window (the text is then encoded as it is)."""
    settings = config.windows() if hasattr(config, "windows") else None  # the config's one reading of them
    if settings is None or (input_ids.shape[1] <= settings[0] and not is_exporting()):  # a graph holds every length
        return None
    size, stride, _ = settings
    inner, count = size - 2, count_of(input_ids, settings)
    lengths = attention_mask.long().sum(dim=1) - 2  # body tokens per text
    cls = _per_window(input_ids[:, 0], count)[:, None]  # every window takes its text's own [CLS] and [SEP]
    sep = _per_window(input_ids.gather(1, (lengths + 1).clamp(min=0)[:, None])[:, 0], count)[:, None]
    pad = config.pad_token_id or 0
    body_valid = torch.arange(input_ids.shape[1] - 1, device=input_ids.device)[None, :] < lengths[:, None]
    body = input_ids[:, 1:].masked_fill(~body_valid, pad)
    width = inner + (count - 1) * stride
    ids = _fit(body, width, pad).unfold(1, inner, stride).reshape(-1, inner)  # (batch * count, inner)
    filled = _fit(body_valid, width, False).unfold(1, inner, stride).reshape(-1, inner).long().sum(dim=1)
    window = torch.arange(count, device=ids.device).repeat(input_ids.shape[0])  # each window's index in its text
    used = (filled > 0) | (window == 0)  # an empty text keeps [CLS] [SEP]
    ends = (filled + 1)[:, None]
    windows = torch.cat([cls, ids, torch.full_like(cls, pad)], dim=1).scatter(1, ends, sep)
    mask = torch.arange(size, device=ids.device)[None, :] <= ends
    mask = mask & used[:, None]
    column = torch.arange(size, device=ids.device)[None, :]
    starts = (window * stride)[:, None]
    sources = torch.where(column == ends, _per_window(lengths + 1, count)[:, None], starts + column)
    sources = sources.masked_fill(column == 0, 0)  # each window's [CLS] is its text's
    keep = torch.sym_min(size, input_ids.shape[1])  # a batch that fits one window (in a graph) keeps its own length
    sources = sources.masked_fill(~mask, -1)
    return Windows(windows[:, :keep], mask[:, :keep].long(), used, count, sources[:, :keep])


def count_of(input_ids: torch.Tensor, settings: tuple[int, int, int]) -> int:
    """Windows per text of a batch `(batch, seq_len)`: enough for its longest text, at most `max_windows`."""
    size, stride, most = settings
    beyond = torch.sym_max(0, input_ids.shape[1] - size)  # sym_max/sym_min: symbolic lengths stay symbolic in export
    return torch.sym_min(most, 1 + (beyond + stride - 1) // stride)


def _per_window(values: torch.Tensor, count: int) -> torch.Tensor:
    """Per text `(batch,)` values repeated for each of its windows, `(batch * count,)` (text-major;
    `repeat_interleave` by a symbolic count does not export)."""
    return values[:, None].repeat(1, count).reshape(-1)


def _fit(x: torch.Tensor, width: int, value) -> torch.Tensor:
    """`x` `(batch, n)` cut or padded with `value` to `(batch, width)` (a negative pad cuts)."""
    return F.pad(x, (0, width - x.shape[1]), value=value)


def encode_windows(
    bert: nn.Module, windows: Windows, dropout: float = 0.0, full_last_layer: bool = False
) -> TextStream:
    """`encode_text` of every used window (batched together), laid side by side per text: keys/values
    `(batch, heads, count * size, head_size)`, `valid` `(batch, count * size)`, `lengths` the longest window's
    tokens (label positions follow it), `last_hidden` `(batch, count * size, hidden)` when asked for."""
    ids, mask = windows.used_rows(windows.input_ids), windows.used_rows(windows.attention_mask)
    text = encode_text(bert, ids, mask, dropout=dropout, full_last_layer=full_last_layer)
    last = None if text.last_hidden is None else windows.laid(text.last_hidden, 1)
    keys = [windows.laid(k, 2) for k in text.keys]
    lengths = windows.attention_mask.sum(dim=1).view(-1, windows.count).amax(dim=1)
    return TextStream(keys, [windows.laid(v, 2) for v in text.values], windows.valid(), lengths, last)


def refuse_windowed_mlm(mlm_targets: torch.Tensor | None) -> None:
    """Joint MLM predicts tokens of the text as the collator laid it out, which windows rearrange: refused."""
    if mlm_targets is not None:
        raise ValueError(
            "Joint MLM (mlm_targets) is not supported with whole documents in windows: train with "
            "--mlm_probability 0, or --max_windows 1."
        )
