"""Collators: `DataCollatorForMultiLabel` (baseline) and `DataCollatorForLabelMask` (label template + reveal)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerBase

from .configuration_lmmlc import MASKED, LabelMaskConfig, MultiLabelBertConfig
from .losses_lmmlc import IGNORE_INDEX
from .template_lmmlc import insert_label_template

REVEAL_STRATEGIES = ("none", "random", "prefix")
NEGATIVES = ("uniform", "mixed")


@dataclass
class DataCollatorForMultiLabel:
    """Pad `tokenizer(text)` features and stack their multi-hot `labels`; optionally mask text for MLM.

    Args:
        tokenizer: the model's tokenizer (pads the texts).
        config: the model config (number of labels).
        mlm_probability: share of text tokens masked for joint MLM (0 = off), as `mlm_targets`.
        seed: seed of the collator's own random generator (None = torch's global one).
    """

    tokenizer: PreTrainedTokenizerBase
    config: MultiLabelBertConfig
    mlm_probability: float = 0.0
    seed: int | None = None
    return_tensors: str = "pt"
    mlm_active: bool = field(default=True, init=False)
    """Switch for MLM schedules: False stops masking without rebuilding the collator."""
    batches_seen: int = field(default=0, init=False)
    """Batches collated so far. A seeded collator draws batch k from (seed, k) alone, so setting this
    when training resumes (`CollatorStepCallback`) replays the batches of an uninterrupted run."""
    generator: torch.Generator | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.mlm_probability <= 1.0:
            raise ValueError(f"mlm_probability must lie in [0, 1], got {self.mlm_probability}.")
        if self.return_tensors != "pt":
            raise ValueError(f"{type(self).__name__} returns PyTorch tensors only: use return_tensors='pt'.")
        self._mlm = None
        if self.mlm_probability > 0:
            self._mlm = DataCollatorForLanguageModeling(self.tokenizer, mlm_probability=self.mlm_probability)

    def _start_batch(self) -> None:
        """Seed this batch's generator from (seed, batches_seen); unseeded collators use torch's global RNG."""
        if self.seed is not None:
            self.generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.batches_seen) % 2**63)
            if self._mlm is not None:
                self._mlm.generator = self.generator
        self.batches_seen += 1

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        self._start_batch()
        labels = self._labels(features)
        batch = dict(self._pad(features))
        self._mask_text(batch, self._text_tokens(batch))
        if labels is not None:
            batch["labels"] = labels.float()
        return batch

    def _pad(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        keys = ("input_ids", "attention_mask", "token_type_ids")
        text = [{k: f[k] for k in keys if k in f} for f in features]
        return self.tokenizer.pad(text, return_tensors="pt", padding_side="right")

    def _text_tokens(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """`(batch, len)` True on real, non-special tokens of padded plain text (those joint MLM may mask)."""
        special = torch.isin(batch["input_ids"], torch.tensor(self.tokenizer.all_special_ids))
        return batch["attention_mask"].bool() & ~special

    def _mask_text(self, batch: dict[str, torch.Tensor], text_mask: torch.Tensor) -> None:
        """Replace some text tokens for MLM (BERT's 80/10/10) and add their targets as `mlm_targets`."""
        if self._mlm is not None and self.mlm_active:
            batch["input_ids"], batch["mlm_targets"] = self._mlm.torch_mask_tokens(batch["input_ids"], ~text_mask)

    def _rand(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator)

    def _labels(self, features: list[dict[str, Any]]) -> torch.Tensor | None:
        """The multi-hot labels as a long tensor, checked; None when no feature carries labels."""
        has = ["labels" in f and f["labels"] is not None for f in features]
        if not any(has):
            return None
        if not all(has):
            raise ValueError(f"Example {has.index(False)} of the batch has no labels while others have them.")
        n = self.config.num_labels
        for i, f in enumerate(features):
            values = torch.as_tensor(f["labels"])
            if values.shape != (n,):
                raise ValueError(
                    f"Example {i} has labels of shape {tuple(values.shape)}; "
                    f"expected a multi-hot list of {n} (num_labels)."
                )
            if not torch.isin(values, torch.tensor([0, 1], dtype=values.dtype)).all():
                raise ValueError(f"Example {i} has label values outside {{0, 1}}: {values.tolist()}.")
        return torch.stack([torch.as_tensor(f["labels"]) for f in features]).long()


@dataclass
class DataCollatorForLabelMask(DataCollatorForMultiLabel):
    """Collate `tokenizer(text)` features (+ a multi-hot `labels` list) into label-mask batches.

    Revealed labels are shown as YES/NO tokens and are inputs, not targets; masked labels are the
    targets (`labels` holds -100 at revealed slots). Features without `labels` give an inference
    batch with every label masked. Use `reveal_strategy="none"` for evaluation batches.

    Args:
        tokenizer: the model's tokenizer (pads the texts).
        config: the model config (template options and token ids).
        reveal_strategy: "none" (all masked), "random" (a random subset per example) or "prefix"
            (the first labels of `reveal_order`).
        reveal_example_prob: share of examples that get any reveal; the rest stay all masked.
        min_revealed / max_revealed: a revealing example reveals a count drawn uniformly between them; max
            defaults to num_labels - 1 so every revealing example keeps at least one target.
        reveal_order: label order of the "prefix" strategy (default: index order).
        wrong_label_prob: probability that a revealed label shows the wrong value (noise the model
            must learn to distrust).
        mlm_probability: share of text tokens masked for joint MLM (0 = off; template never masked).
        seed: seed of the collator's own random generator (None = torch's global one).
        label_sample_size: label stream only: labels scored per training example, all its positives plus
            sampled negatives (`candidate_ids` in the batch); an example with more positives keeps them all and
            the batch grows to fit; negatives are drawn uniformly. None: every label (no `candidate_ids`).
        label_negatives: with `label_sample_size`: "uniform" (drawn by the collator) or "mixed" (the model scores
            each example's positives and the negatives its label ranker ranks highest, as its shortlist holds them at
            inference, in half the slots, and uniformly drawn others in the rest: `sample_size` and `uniform_size`
            in the batch, with every label's `labels`).

    With the label stream (`config.label_stream`) batches hold the plain padded text, `candidate_ids`,
    `candidate_state` and `labels` of the scored labels instead of a single-sequence template; with
    `config.label_shortlist_size` (or a pooled text head with sampled labels) also `ranker_targets`, every label's
    0/1 target (nothing revealed or sampled); with
    `config.all_masked_loss_weight`, batches that reveal labels also hold `slot_targets`, the 0/1 truth of every
    scored label, revealed ones included.
    """

    config: LabelMaskConfig
    reveal_strategy: str = "none"
    reveal_example_prob: float = 0.5
    min_revealed: int = 1
    max_revealed: int | None = None
    reveal_order: list[int] | None = None
    wrong_label_prob: float = 0.01
    label_sample_size: int | None = None
    label_negatives: str = "uniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.config.num_labels
        self._check_sampling()
        if self.reveal_strategy not in REVEAL_STRATEGIES:
            raise ValueError(f"reveal_strategy={self.reveal_strategy!r}; choose one of {REVEAL_STRATEGIES}.")
        if self.reveal_strategy != "none":
            self.config.check_reveals(f"reveal_strategy={self.reveal_strategy!r}")
        for name in ("reveal_example_prob", "wrong_label_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}.")
        if self.max_revealed is None:
            self.max_revealed = n - 1
        can_reveal = self.reveal_strategy != "none" and n >= 2  # one label cannot be revealed and targeted
        if can_reveal and not 1 <= self.min_revealed <= self.max_revealed <= n - 1:
            raise ValueError(
                f"Need 1 <= min_revealed <= max_revealed <= num_labels - 1 = {n - 1}, got "
                f"{self.min_revealed} and {self.max_revealed}."
            )
        self.reveal_order = self.config.check_order(range(n) if self.reveal_order is None else self.reveal_order)

    def _check_sampling(self) -> None:
        if self.label_sample_size is not None and self.label_sample_size < 1:
            raise ValueError(
                f"label_sample_size must be >= 1 (labels scored per example) or None (all labels), "
                f"got {self.label_sample_size}."
            )
        if self.label_sample_size is not None and not self.config.label_stream:
            raise ValueError(
                "label_sample_size needs the label stream (label_stream=True): a single sequence scores all."
            )
        if self.label_negatives not in NEGATIVES:
            raise ValueError(f"label_negatives={self.label_negatives!r}: choose one of {', '.join(NEGATIVES)}.")
        if self.label_negatives != "uniform" and not getattr(self.config, "label_shortlist_size", None):
            raise ValueError(
                f"label_negatives={self.label_negatives!r} picks negatives by the label ranker: the model needs a "
                "ranker (label_shortlist_size > 0, the default past one label group)."
            )
        if self.label_negatives != "uniform" and self.reveal_strategy != "none":
            raise ValueError(
                f"label_negatives={self.label_negatives!r} scores labels the model picks: use reveal_strategy='none'."
            )

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        self._start_batch()
        labels = self._labels(features)
        padded = self._pad(features)
        by_model = self.label_negatives == "mixed" and labels is not None and self._samples(labels.shape[1])
        label_ids = None if by_model or labels is None or not self.config.label_stream else self._sample_labels(labels)
        full_targets = getattr(self.config, "label_shortlist_size", None) or (
            label_ids is not None and getattr(self.config, "pooled_text_head", False)
        )
        ranker_targets = labels if full_targets else None
        if label_ids is not None:
            labels = labels.gather(1, label_ids)
        state, truth = None, labels
        if labels is not None:
            reveal = self._reveal(labels.shape[0], label_ids)
            shown = torch.where(self._rand(labels.shape) < self.wrong_label_prob, 1 - labels, labels)
            state = torch.where(reveal, shown, MASKED)
            labels = torch.where(reveal, IGNORE_INDEX, labels)
        if self.config.label_stream:
            batch = dict(padded)
            self._mask_text(batch, self._text_tokens(batch))
            shown = state if state is not None and (state >= 0).any() else None
            views = shown is not None and self.config.uses_reveal_views
            batch.update({"candidate_ids": label_ids, "candidate_state": shown, "ranker_targets": ranker_targets})
            batch["slot_targets"] = truth if views else None
            batch["sample_size"] = torch.tensor(self.label_sample_size) if by_model else None
            batch["uniform_size"] = torch.tensor(self.label_sample_size // 2) if by_model else None
            batch = {k: v for k, v in batch.items() if v is not None}
        else:
            batch = insert_label_template(padded["input_ids"], padded["attention_mask"], self.config, state)
            self._mask_text(batch, batch.pop("text_mask"))
        if labels is not None:
            batch["labels"] = labels.float()
        return batch

    def _sample_labels(self, labels: torch.Tensor) -> torch.Tensor | None:
        """Per example, all positives plus sampled negatives, `(batch, k)` sorted label indices; None = all labels.

        k is `label_sample_size`, or the most positives of any example in the batch when that is larger.
        """
        if not self._samples(labels.shape[1]):
            return None
        keys = torch.where(labels == 1, float("inf"), self._rand(labels.shape))
        k = max(self.label_sample_size, int(labels.sum(dim=1).max()))
        return keys.topk(k, dim=1).indices.sort(dim=1).values

    def _samples(self, num_labels: int) -> bool:
        """Whether training examples score a sample of their labels (fewer than `num_labels`)."""
        return self.label_sample_size is not None and self.label_sample_size < num_labels

    def _reveal(self, batch: int, label_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Which labels each example reveals, `(batch, k)` bool (k: num_labels, or the sampled `label_ids`)."""
        n = self.config.num_labels if label_ids is None else label_ids.shape[1]
        if self.reveal_strategy == "none" or n < 2:
            return torch.zeros(batch, n, dtype=torch.bool)
        low, high = min(self.min_revealed, n - 1), min(self.max_revealed, n - 1)
        count = low + (self._rand((batch,)) * (high - low + 1)).long()
        if self.reveal_strategy == "random":
            rank = self._rand((batch, n)).argsort(dim=1).argsort(dim=1)
        else:
            rank = torch.tensor(self.config.order_ranks(self.reveal_order))
            rank = rank.expand(batch, -1) if label_ids is None else rank[label_ids].argsort(dim=1).argsort(dim=1)
        chosen = self._rand((batch,)) < self.reveal_example_prob
        return (rank < count[:, None]) & chosen[:, None]
