"""Training views for models that reveal labels: train for the decoder that ships (issue 13).

Two options of `LabelMaskConfig`, label stream only, active in training batches that reveal labels:

- `all_masked_loss_weight` w: also score every sampled label of the revealing examples from their all-masked view
  (nothing revealed) and add w times its loss, so the one-pass signal is never lost to reveals. The text is encoded
  once and shared by both views; only the label stream of the revealing examples runs twice.
- `self_condition_prob` p: in a share p of the revealing examples, the revealed labels and the values they show come
  from the model itself, as in decoding's second round: the same number of labels as the collator drew, the ones
  the all-masked view is most certain of, each shown as decided at probability 0.5. The decision is a hard
  threshold on a detached (or no-grad) pass: no gradient flows through it.

One option for training without reveals (issue 13, soft reveals):

- `soft_reveal_prob` q: a share q of the training examples is also scored from its soft view, every scored label
  showing its own probability p from the all-masked pass (detached), as 2p - 1 along the YES/NO direction of its
  slot (`label_stream_lmmlc.soft_embeddings`), and that loss is added: exactly what `soft` decoding's second pass
  sees. Every label stays a target in both views; the soft view costs one more label-stream pass for its examples.

Travels to the Hub with `modeling_lmmlc.py`: imports only torch and the files that travel with it.
"""

from __future__ import annotations

import torch

from .configuration_lmmlc import MASKED
from .losses_lmmlc import IGNORE_INDEX


def self_conditioned_state(
    all_masked_logits: torch.Tensor, state: torch.Tensor, targets: torch.Tensor, rows: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reveal the model's own most certain decisions in `rows` instead of the collator's draw.

    Args:
        all_masked_logits: `(batch, k)` logits of the scored labels, nothing revealed (no gradient is used).
        state: `(batch, k)` the collator's reveals: -1 masked, 0 shown as NO, 1 shown as YES.
        targets: `(batch, k)` 0/1 truth of every scored label (revealed ones included).
        rows: `(batch,)` True for the examples to self-condition.

    Returns:
        The new `state` and the training targets `(batch, k)` (IGNORE_INDEX where revealed). In `rows`, as many
        labels as `state` revealed there, those with the largest |logit|, show `logit >= 0`; elsewhere the
        collator's state is kept.
    """
    logits = all_masked_logits.detach()
    count = (state != MASKED).sum(dim=1, keepdim=True)
    rank = logits.abs().argsort(dim=1, descending=True).argsort(dim=1)
    own = torch.where(rank < count, (logits >= 0).to(state.dtype), MASKED)
    new_state = torch.where(rows[:, None], own, state)
    return new_state, torch.where(new_state == MASKED, targets, IGNORE_INDEX).to(targets.dtype)


def choose_rows(state: torch.Tensor, prob: float) -> torch.Tensor:
    """`(batch,)` True for each revealing example with probability `prob` (torch's global RNG)."""
    revealing = (state != MASKED).any(dim=1)
    return revealing & (torch.rand(state.shape[0], device=state.device) < prob)


def soft_beliefs(logits: torch.Tensor) -> torch.Tensor:
    """Soft reveals `(batch, k)` of logits `(batch, k)`: 2 sigmoid(logit) - 1, in [-1, 1], detached."""
    return torch.tanh(logits.detach().float() / 2)


def choose_soft_rows(batch: int, prob: float, device: torch.device) -> torch.Tensor:
    """Indices of the examples (each with probability `prob`, torch's global RNG) trained on their soft view."""
    return (torch.rand(batch, device=device) < prob).nonzero().squeeze(1)
