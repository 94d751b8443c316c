"""Per-label evidence: which spans of the text a label's score drew on. Travels to the Hub: imports only torch,
`configuration_lmmlc.py`, `pipeline_lmmlc.py` (spans) and `windows_lmmlc.py`.

A token's weight for a label is gradient x input: the derivative of the label's logit (by default the stream's cloze
score plus the pooled text head's, so both shares are covered) with respect to a gate on the token's word embedding,
at 1 (the gradient dotted with the embedding). It is exact to first order for either part of the score and for every
model kind (label stream, single sequence, pooled baseline, the stock head), reads every window of a whole document,
and costs one backward pass per explained label. Positive weights support the label; words are merged into spans.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .configuration_lmmlc import max_text_length
from .pipeline_lmmlc import evidence_spans
from .windows_lmmlc import split_windows


def token_evidence(
    model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor, label_ids: torch.Tensor
) -> torch.Tensor:
    """Gradient x input weight of every input token for each label of `label_ids` `(batch, k)`: `(batch, k, seq_len)`
    (0 on padding). `input_ids` / `attention_mask` `(batch, seq_len)`: plain tokenizer output."""
    if not label_ids.shape[1]:
        return torch.zeros(input_ids.shape[0], 0, input_ids.shape[1])
    embeddings = model.get_input_embeddings()
    gates: list[torch.Tensor] = []

    def gate(module: nn.Module, args: Any, output: torch.Tensor) -> torch.Tensor:
        if gates:  # the text is embedded first; label tokens later are not evidence
            return output
        gates.append(torch.ones(output.shape[:2], dtype=output.dtype, device=output.device, requires_grad=True))
        return output * gates[0][..., None]

    handle = embeddings.register_forward_hook(gate)
    try:
        with torch.inference_mode(False), torch.enable_grad():
            ids, mask = input_ids.clone(), attention_mask.clone()
            logits = model(input_ids=ids, attention_mask=mask).logits.gather(1, label_ids.clone())
            rows = [
                torch.autograd.grad(logits[:, j].sum(), gates[0], retain_graph=True)[0] for j in range(logits.shape[1])
            ]
    finally:
        handle.remove()
    per_row = torch.stack(rows, dim=1).detach()  # (rows, k, row_len)
    return _to_inputs(per_row, input_ids, attention_mask, model.config)


def _to_inputs(
    weights: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor, config: Any
) -> torch.Tensor:
    """Weights over the rows the encoder read (windows, or the text with a template after it) mapped onto the input
    tokens `(batch, k, seq_len)`; a token read by two overlapping windows sums both."""
    windows = split_windows(input_ids, attention_mask, config)
    if windows is None:
        return weights[..., : input_ids.shape[1]] * attention_mask[:, None, :]
    sources = windows.used_rows(windows.sources)  # (rows, size)
    example = windows.used_rows(torch.arange(windows.sources.shape[0], device=input_ids.device)) // windows.count
    out = weights.new_zeros((input_ids.shape[0], input_ids.shape[1], weights.shape[1]))
    rows, cols = (sources >= 0).nonzero(as_tuple=True)
    out.index_put_((example[rows], sources[rows, cols]), weights[rows, :, cols], accumulate=True)
    return out.transpose(1, 2)


def explain(model: nn.Module, tokenizer: Any, text: str, label_ids: list[int], top: int) -> list[list[dict[str, Any]]]:
    """The `top` evidence spans of `text` for each label of `label_ids` (`evidence_spans` of `token_evidence`), the text
    tokenized as every lmmlc command does (cut to what the model reads)."""
    limit = max_text_length(model.config, tokenizer.model_max_length)
    encoded = tokenizer(text, truncation=True, max_length=limit, return_offsets_mapping=True, return_tensors="pt")
    offsets = [tuple(pair) for pair in encoded.pop("offset_mapping")[0].tolist()]
    if not label_ids:
        return []
    ids = torch.tensor([label_ids], dtype=torch.long)
    weights = token_evidence(model, encoded["input_ids"], encoded["attention_mask"], ids)[0]
    return [evidence_spans(row, offsets, encoded.word_ids(), text, top) for row in weights]
