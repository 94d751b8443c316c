"""`losses_lmmlc`: the multi-label losses against their formulas, masking and extreme logits."""

import pytest
import torch

from lmmlc import LabelMaskConfig
from lmmlc.losses_lmmlc import multilabel_loss, zlpr_loss

from .test_modeling_lmmlc import LOSSES


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_only_on_masked_labels(loss):
    config = LabelMaskConfig(label_names=["a", "b", "c"], classification_loss=loss)
    logits = torch.randn(2, 3, requires_grad=True)
    labels = torch.tensor([[1.0, -100.0, 0.0], [-100.0, 1.0, -100.0]])
    multilabel_loss(logits, labels, config).backward()
    ignored = labels == -100
    assert (logits.grad[ignored] == 0).all() and (logits.grad[~ignored] != 0).all()
    # what stands at an ignored entry makes no difference
    other = torch.where(ignored, torch.randn(2, 3) * 50, logits.detach())
    assert multilabel_loss(other, labels, config) == multilabel_loss(logits.detach(), labels, config)


def test_zlpr_matches_its_formula():
    logits = torch.tensor([[2.0, -1.0, 0.5]])
    hard = torch.tensor([[1.0, 0.0, 1.0]])
    expected = torch.log(1 + torch.exp(torch.tensor(-1.0))) + torch.log(
        1 + torch.exp(torch.tensor(-2.0)) + torch.exp(torch.tensor(-0.5))
    )
    assert torch.allclose(zlpr_loss(logits, hard, torch.ones_like(hard)), expected)
    soft = torch.tensor([[0.8, 0.0, 1.0]])
    expected_soft = torch.log(1 + 0.2 * torch.exp(torch.tensor(2.0)) + torch.exp(torch.tensor(-1.0))) + torch.log(
        1 + 0.8 * torch.exp(torch.tensor(-2.0)) + torch.exp(torch.tensor(-0.5))
    )
    assert torch.allclose(zlpr_loss(logits, soft, torch.ones_like(soft)), expected_soft)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("row", [0.0, 1.0])
def test_losses_stay_finite_on_extreme_logits(loss, row):
    config = LabelMaskConfig(label_names=["a", "b", "c"], classification_loss=loss)
    logits = torch.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    value = multilabel_loss(logits, torch.full((1, 3), row), config)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()
