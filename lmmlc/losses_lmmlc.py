"""Multi-label losses: pure functions of logits `(batch, labels)` and 0/1 targets (`IGNORE_INDEX` = not a
target). Travels to the Hub with `modeling_lmmlc.py`: imports only torch and `configuration_lmmlc.py`."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .configuration_lmmlc import MultiLabelBertConfig

IGNORE_INDEX = -100


def _masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    return (values * valid).sum() / valid.sum().clamp(min=1)


def bce_loss(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Sigmoid binary cross-entropy averaged over valid (target) entries."""
    values = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return _masked_mean(values, valid)


def focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor, gamma: float, alpha: float | None
) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al., 2017) averaged over valid entries."""
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p = torch.sigmoid(logits)
    p_true = p * targets + (1 - p) * (1 - targets)
    values = ce * (1 - p_true).pow(gamma)
    if alpha is not None:
        values = values * (alpha * targets + (1 - alpha) * (1 - targets))
    return _masked_mean(values, valid)


def zlpr_loss(logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Multi-label softmax cross-entropy (ZLPR), soft-label form, averaged over examples.

    Per example: log(1 + sum_j (1 - y_j) e^{s_j}) + log(1 + sum_i y_i e^{-s_i}); for 0/1 targets
    this is the hard ZLPR loss. Entries that are not targets get weight 0.
    """
    pos, neg = targets * valid, (1 - targets) * valid
    zero = torch.zeros_like(logits[:, :1])
    pos_term = torch.logsumexp(torch.cat([zero, -logits + pos.log()], dim=1), dim=1)
    neg_term = torch.logsumexp(torch.cat([zero, logits + neg.log()], dim=1), dim=1)
    rows = valid.any(dim=1).float()
    return _masked_mean(pos_term + neg_term, rows)


def multilabel_loss(logits: torch.Tensor, labels: torch.Tensor, config: MultiLabelBertConfig) -> torch.Tensor:
    """The configured classification loss; entries equal to IGNORE_INDEX are not targets."""
    if labels.shape != logits.shape:
        raise ValueError(
            f"labels have shape {tuple(labels.shape)}, expected {tuple(logits.shape)} (batch, num_labels)."
        )
    logits = logits.float()
    valid = (labels != IGNORE_INDEX).float()
    targets = labels.float() * valid
    if config.classification_loss == "zlpr":
        return zlpr_loss(logits, targets, valid)
    if config.classification_loss == "focal":
        return focal_loss(logits, targets, valid, config.focal_gamma, config.focal_alpha)
    return bce_loss(logits, targets, valid)
