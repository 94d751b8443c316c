"""`MultiLabelTrainer`: the stock Trainer, with an evaluation collator and optional FGM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from transformers import Trainer


class MultiLabelTrainer(Trainer):
    """`Trainer` whose evaluation and prediction batches come from `eval_data_collator`.

    Training batches of the label-mask model reveal labels; evaluation batches must not, so they
    get their own collator. With `fgm_epsilon > 0`, each step adds the gradient of an FGM
    adversarial copy of the batch (word embeddings moved by epsilon along their normalised gradient).
    With `head_learning_rate`, the new head's parameters (the model's `is_head_parameter`; a model without it:
    those outside the encoder, `model.base_model_prefix`) train at that peak learning rate, on the same schedule
    as the encoder.

    Args:
        eval_data_collator: collator of evaluation and prediction batches (default: `data_collator`).
        fgm_epsilon: size of the FGM perturbation; 0 disables it.
        head_learning_rate: peak learning rate of the head (default: `args.learning_rate`).
        args / kwargs: as for `Trainer`.
    """

    def __init__(
        self,
        *args: Any,
        eval_data_collator: Callable | None = None,
        fgm_epsilon: float = 0.0,
        head_learning_rate: float | None = None,
        **kwargs,
    ):
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        if training_args is not None and training_args.learning_rate is None:
            raise ValueError(
                "args.learning_rate is None: give a learning rate, or call "
                "args.resolve_learning_rates(model_type) (lmmlc-train does) for the measured default."
            )
        super().__init__(*args, **kwargs)
        if fgm_epsilon < 0:
            raise ValueError(f"fgm_epsilon must be >= 0, got {fgm_epsilon}.")
        self.eval_data_collator = eval_data_collator or self.data_collator
        self.fgm_epsilon = fgm_epsilon
        self.head_learning_rate = head_learning_rate
        if head_learning_rate is not None and not self._head_parameter_ids():
            raise ValueError(
                f"head_learning_rate={head_learning_rate} was given but this model has no new head to train at it "
                "(LM-MLC's heads: --pooled_text_head true, the label ranker of --label_shortlist_size). Leave "
                "--head_learning_rate out, or add such a head."
            )

    def _head_parameter_ids(self) -> set[int]:
        """Ids of the new head's parameters: the model's `is_head_parameter` (LM-MLC), else those outside the
        encoder (the pooled baseline, the stock model)."""
        model = self.accelerator.unwrap_model(self.model)
        is_head = getattr(model, "is_head_parameter", None) or (
            lambda name: not name.startswith(f"{model.base_model_prefix}.")
        )
        return {id(p) for name, p in model.named_parameters() if is_head(name)}

    def create_optimizer(self, *args: Any, **kwargs: Any) -> torch.optim.Optimizer:
        """The stock optimizer; with `head_learning_rate`, each parameter group is split into its encoder
        part and its head part, the head part at `head_learning_rate` (before any scheduler exists)."""
        existed = self.optimizer is not None
        optimizer = super().create_optimizer(*args, **kwargs)
        if self.head_learning_rate is None or existed:
            return optimizer
        head = self._head_parameter_ids()
        groups = []
        for group in optimizer.param_groups:
            body_params = [p for p in group["params"] if id(p) not in head]
            head_params = [p for p in group["params"] if id(p) in head]
            groups += [{**group, "params": body_params}] if body_params else []
            groups += [{**group, "params": head_params, "lr": self.head_learning_rate}] if head_params else []
        optimizer.param_groups = groups
        return optimizer

    def get_eval_dataloader(self, eval_dataset: Any = None) -> torch.utils.data.DataLoader:
        return self._with_eval_collator(super().get_eval_dataloader, eval_dataset)

    def get_test_dataloader(self, test_dataset: Any) -> torch.utils.data.DataLoader:
        return self._with_eval_collator(super().get_test_dataloader, test_dataset)

    def _with_eval_collator(self, make: Callable, dataset: Any) -> torch.utils.data.DataLoader:
        train_collator, self.data_collator = self.data_collator, self.eval_data_collator
        try:
            return make(dataset)
        finally:
            self.data_collator = train_collator

    def training_step(self, model: nn.Module, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> torch.Tensor:
        loss = super().training_step(model, dict(inputs), *args, **kwargs)
        if self.fgm_epsilon > 0:
            self._adversarial_step(model, inputs, *args, **kwargs)
        return loss

    def _adversarial_step(self, model: nn.Module, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        weight = self.accelerator.unwrap_model(model).get_input_embeddings().weight
        if weight.grad is None:
            return
        norm = weight.grad.norm()
        if not torch.isfinite(norm) or norm == 0:
            return
        clean = weight.data.clone()  # restored exactly (adding and subtracting the step would round)
        weight.data.add_(self.fgm_epsilon * weight.grad / norm)
        try:
            super().training_step(model, dict(inputs), *args, **kwargs)
        finally:
            weight.data.copy_(clean)
