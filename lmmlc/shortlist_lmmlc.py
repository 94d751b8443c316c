"""The label shortlist: a light ranker picks, per example, the labels the label stream scores at inference.

Scoring every label costs a label-stream pass per label (docs/experiments/NOTEBOOK.md 5d); with hundreds of labels that
dominates inference. Extreme multi-label systems score a shortlist instead: a cheap ranker over all labels,
then the expensive scorer on its top M. Here the ranker is the cosine of the mean-pooled text (the encoder's
last layer, detached: the ranker never trains the encoder) and a learned vector per label, times `RANKER_SCALE`,
plus a learned bias; it trains with the model (a softmax over every label, added to the loss) and costs one
`(hidden, num_labels)` product per example. At inference the ranker's log-probability of each scored label,
times `config.ranker_score_weight`, is added to its stream logit (`fuse_ranker`): the two scorers read the text
differently, and on cooking-stackexchange their sum ranked better on validation than the stream alone on every seed
(docs/experiments/NOTEBOOK.md 5h).

Travels to the Hub with `modeling_lmmlc.py`: imports only torch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

RANKER_SCALE = 20.0
"""Cosine similarities are multiplied by this before the softmax (logits within about +-20): a temperature, as in
sentence-transformers' ranking losses, that lets a label's score move far enough in a few thousand steps."""

OUTSIDE_LOGIT = -10.0
"""Labels outside the shortlist score below this logit (probability < 5e-5) and below every shortlisted label."""


class LabelRanker(nn.Module):
    """Scores every label from the mean-pooled text: `RANKER_SCALE * (cos(pooled, vector_l) + bias_l)`."""

    def __init__(self, num_labels: int, hidden_size: int) -> None:
        super().__init__()
        self.label_vectors = nn.Parameter(torch.empty(num_labels, hidden_size))
        self.label_bias = nn.Parameter(torch.zeros(num_labels))

    def forward(self, pooled: torch.Tensor, start: int = 0, size: int | None = None) -> torch.Tensor:
        """Ranker logits `(batch, size)` of labels `start..start + size` (default: every label) of `pooled`
        `(batch, hidden)`; a block of labels added later is ranked with its own vectors only, so the product keeps
        the shape, and the values, it had before (`add_labels`)."""
        end = self.label_vectors.shape[0] if size is None else start + size
        cosine = F.normalize(pooled, dim=-1) @ F.normalize(self.label_vectors[start:end], dim=-1).T
        return RANKER_SCALE * (cosine + self.label_bias[start:end])


def ranker_loss(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int) -> torch.Tensor:
    """The ranker's loss: per example, the mean over its positive labels of -log softmax over every label of
    `logits` `(batch, num_labels)`; `targets` `(batch, num_labels)` 0/1, `ignore_index` entries left out of the
    softmax; examples without a positive label are skipped.

    A softmax ranks (what a shortlist needs) where per-label BCE calibrates: on frozen MiniLM titles of
    cooking-stackexchange (validation), 4 epochs at 3e-4: recall@128 0.94 against 0.90 for BCE
    (`python -m benchmarks.ranker_probe`, docs/experiments/NOTEBOOK.md 5f)."""
    ignored = targets == ignore_index
    positive = (targets == 1) & ~ignored
    keep = positive.any(dim=1)
    if not keep.any():
        return logits.sum() * 0
    log_probs = logits.float()[keep].masked_fill(ignored[keep], float("-inf")).log_softmax(dim=1)
    chosen = positive[keep]
    return -(log_probs.masked_fill(~chosen, 0).sum(dim=1) / chosen.sum(dim=1)).mean()


def shortlist(ranker_logits: torch.Tensor, size: int) -> torch.Tensor:
    """The `size` labels the ranker puts first, per example, `(batch, min(size, num_labels))` sorted label ids."""
    size = min(size, ranker_logits.shape[1])
    return ranker_logits.topk(size, dim=1).indices.sort(dim=1).values


def fuse_ranker(
    logits: torch.Tensor, ranker_logits: torch.Tensor, candidate_ids: torch.Tensor | None, weight: float
) -> torch.Tensor:
    """Stream `logits` `(batch, k)` of `candidate_ids` `(batch, k)` (every label when None) plus `weight` times the
    ranker's log-probability of each (a log-softmax of `ranker_logits` `(batch, num_labels)` over every label)."""
    if not weight:
        return logits
    prior = ranker_logits.float().log_softmax(dim=1)
    prior = prior if candidate_ids is None else prior.gather(1, candidate_ids.long())
    return logits + (weight * prior).to(logits.dtype)


def merge_shortlisted(ranker_logits: torch.Tensor, chosen: torch.Tensor, scored: torch.Tensor) -> torch.Tensor:
    """Logits of every label `(batch, num_labels)`: the stream's `scored` `(batch, m)` for the shortlisted labels
    `chosen` `(batch, m)`; the others below `OUTSIDE_LOGIT` and below every shortlisted label of their example,
    in the ranker's order."""
    outside = torch.ones_like(ranker_logits, dtype=torch.bool).scatter(1, chosen, False)
    top_outside = ranker_logits.masked_fill(~outside, float("-inf")).amax(dim=1, keepdim=True)
    floor = scored.min(dim=1, keepdim=True).values.clamp(max=OUTSIDE_LOGIT) - 1
    below = floor - (top_outside - ranker_logits)  # ranker order, the best outside label at `floor`
    merged = below.to(scored.dtype).scatter(1, chosen, scored)
    return merged
