"""Trainer callbacks: the joint-MLM schedule, resumable collator randomness and a JSON Lines training log."""

from __future__ import annotations

import json
from pathlib import Path

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from .data_collators import DataCollatorForMultiLabel


class MLMScheduleCallback(TrainerCallback):
    """Joint MLM for the first `epochs` epochs and/or `steps` steps, task-only afterwards.

    It switches the training collator's MLM off; the switch reaches the next batch collated, so
    the data loader must collate in the main process (`dataloader_num_workers=0`).
    """

    def __init__(self, collator: DataCollatorForMultiLabel, epochs: float | None = None, steps: int | None = None):
        if epochs is None and steps is None:
            raise ValueError("MLMScheduleCallback needs epochs or steps.")
        self.collator, self.epochs, self.steps = collator, epochs, steps

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs) -> None:
        if args.dataloader_num_workers > 0:
            raise ValueError(
                "The MLM schedule switches the collator in the main process: use dataloader_num_workers=0."
            )
        self._update(state)

    def on_epoch_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs) -> None:
        self._update(state)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs) -> None:
        self._update(state)

    def _update(self, state: TrainerState) -> None:
        epoch, step = state.epoch or 0.0, state.global_step
        by_epoch = self.epochs is None or epoch < self.epochs
        by_step = self.steps is None or step < self.steps
        self.collator.mlm_active = by_epoch and by_step


class CollatorStepCallback(TrainerCallback):
    """Point a seeded training collator at the batch training (re)starts from, so resuming from a
    checkpoint draws the same reveals and MLM masks as an uninterrupted run."""

    def __init__(self, collator: DataCollatorForMultiLabel):
        self.collator = collator

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs) -> None:
        loader = kwargs.get("train_dataloader")
        batches = len(loader) if loader is not None and hasattr(loader, "__len__") else None
        self.collator.batches_seen = batches_before(state.global_step, args.gradient_accumulation_steps, batches)


def batches_before(step: int, accumulation: int, batches_per_epoch: int | None) -> int:
    """Batches an uninterrupted run has collated before optimizer step `step`: `accumulation` per step, except
    the last step of an epoch, which takes what is left (the Trainer's own resume arithmetic)."""
    if not batches_per_epoch:
        return step * accumulation
    steps_per_epoch = max(-(-batches_per_epoch // accumulation), 1)
    epochs, steps = divmod(step, steps_per_epoch)
    return epochs * batches_per_epoch + min(steps * accumulation, batches_per_epoch)


class JsonLogCallback(TrainerCallback):
    """Append every Trainer log (loss, learning rate, eval metrics) to `<output_dir>/training_log.jsonl`."""

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            path = Path(args.output_dir) / "training_log.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"step": state.global_step, "epoch": state.epoch, **logs}) + "\n")
