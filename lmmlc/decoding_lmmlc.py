"""Decoding of label-mask models: the decoding strategies (one pass, rounds by confidence, a fixed or random order)
and the single-sequence text cache with the guards of what it assumes.

Travels to the Hub with `modeling_lmmlc.py`: imports only torch, transformers and the other travelling files.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers.modeling_outputs import ModelOutput
from transformers.utils import logging

from .configuration_lmmlc import MASKED, NO, YES, check_decode_options, resolve_thresholds
from .label_stream_lmmlc import encode_text, run_label_stream
from .template_lmmlc import show_labels, template_positions_mask

logger = logging.get_logger(__name__)


@dataclass
class LabelMaskDecodeOutput(ModelOutput):
    """Output of `BertForLabelMaskClassification.decode`.

    Args:
        probs: probability of every label when it was decided, shape `(batch, num_labels)`.
        predictions: 0/1 decisions (probability >= threshold), shape `(batch, num_labels)`.
        order: label indices in the order they were decided (revealed), shape `(batch, num_labels)`.
        rounds: forward rounds each example took, shape `(batch,)`.
    """

    probs: torch.Tensor | None = None
    predictions: torch.Tensor | None = None
    order: torch.Tensor | None = None
    rounds: torch.Tensor | None = None


@dataclass
class DecodePlan:
    """A checked decoding strategy, and the loop that runs it."""

    strategy: str
    per_round: int
    thresholds: torch.Tensor
    margin: float
    ranks: torch.Tensor | None  # (num_labels,) position of each label in a fixed order
    seed: int | None

    @classmethod
    def build(cls, config, strategy, per_round, order, thresholds, seed, margin) -> DecodePlan:
        strategy = strategy or config.decode_strategy
        per_round = config.labels_per_round if per_round is None else int(per_round)
        margin = config.decode_margin if margin is None else float(margin)
        check_decode_options(strategy, per_round, margin)
        config.check_decoder(strategy, f"Decoding with strategy={strategy!r}")
        ranks = None
        if strategy == "fixed":
            order = order if order is not None else config.decode_order
            if order is None:
                raise ValueError("strategy='fixed' needs an order (or config.decode_order, see find_best_order).")
            ranks = torch.tensor(config.order_ranks(order))
        thresholds = torch.tensor(resolve_thresholds(config, thresholds))
        return cls(strategy, per_round, thresholds, margin, ranks, seed)

    def run(self, probabilities, batch: int, device: torch.device) -> LabelMaskDecodeOutput:
        n = self.thresholds.numel()
        thresholds = self.thresholds.to(device)
        ranks = self._ranks(batch, n, device)
        state = torch.full((batch, n), MASKED, dtype=torch.long, device=device)
        probs = torch.zeros(batch, n, device=device)
        order = torch.full((batch, n), -1, dtype=torch.long, device=device)
        rounds = torch.zeros(batch, dtype=torch.long, device=device)
        rows = torch.arange(batch, device=device)
        while rows.numel():
            p = probabilities(rows, state[rows])
            open_ = state[rows] == MASKED
            chosen, priority = self._choose(p, open_, thresholds, None if ranks is None else ranks[rows])
            _record_order(order, rows, chosen, priority, (~open_).sum(dim=1))
            probs[rows] = torch.where(chosen, p, probs[rows])
            state[rows] = torch.where(chosen, torch.where(p >= thresholds, YES, NO), state[rows])
            rounds[rows] += 1
            rows = rows[(state[rows] == MASKED).any(dim=1)]
        return LabelMaskDecodeOutput(probs, (state == YES).long(), order, rounds)

    def _ranks(self, batch: int, n: int, device: torch.device) -> torch.Tensor | None:
        if self.strategy == "fixed":
            return self.ranks.to(device).expand(batch, n)
        if self.strategy == "random":
            generator = torch.Generator().manual_seed(self.seed if self.seed is not None else 0)
            return torch.rand(batch, n, generator=generator).argsort(dim=1).argsort(dim=1).to(device)
        return None

    def _choose(self, p, open_, thresholds, ranks) -> tuple[torch.Tensor, torch.Tensor]:
        """Which open labels to decide now, and their priority (higher = decided earlier)."""
        if self.strategy == "one_shot":
            priority = _certainty(p, thresholds)
            return open_, priority
        if ranks is not None:
            priority = -ranks.float()
            return _top_open(priority, open_, self.per_round), priority
        priority = _certainty(p, thresholds)
        sure = open_ & ((p <= self.margin) | (p >= 1 - self.margin))
        return sure | _top_open(priority, open_, self.per_round), priority


def _certainty(p: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """How far each probability is from its threshold, scaled to [0, 1] (1 at 0 or 1)."""
    return torch.where(p >= thresholds, (p - thresholds) / (1 - thresholds), (thresholds - p) / thresholds)


def _top_open(priority: torch.Tensor, open_: torch.Tensor, k: int) -> torch.Tensor:
    """The k open labels of highest priority per row (all open ones when fewer)."""
    masked = priority.masked_fill(~open_, float("-inf"))
    top = masked.topk(min(k, priority.shape[1]), dim=1).indices
    return torch.zeros_like(open_).scatter(1, top, True) & open_


def _record_order(order: torch.Tensor, rows: torch.Tensor, chosen: torch.Tensor, priority, done: torch.Tensor):
    """Append each row's newly decided labels to `order`, highest priority first."""
    within = priority.masked_fill(~chosen, float("-inf")).argsort(dim=1, descending=True).argsort(dim=1)
    row, label = chosen.nonzero(as_tuple=True)
    order[rows[row], done[row] + within[row, label]] = label


def round_runner(model, input_ids, attention_mask, token_type_ids, slot_positions, use_text_cache: bool | None):
    """A function (rows, label_state) -> probabilities `(rows, num_labels)` of those rows with those labels shown:
    the text cache when it applies (`use_text_cache`, default: whenever text is blind to the template), else a
    full forward per round. A cache whose assumptions fail falls back to the full forward, saying so once."""
    config = model.config
    if use_text_cache and config.text_attends_labels:
        raise ValueError("use_text_cache needs text_attends_labels=False (text tokens blind to the template).")
    if use_text_cache is not False and not config.text_attends_labels:
        problem = text_cache_problem(model)
        if problem is None:
            return TextCache(model, input_ids, attention_mask, token_type_ids, slot_positions).probabilities
        logger.warning_once(f"Decoding without the text cache ({problem}): every round reruns the whole sequence.")

    def run(rows: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        ids = show_labels(input_ids[rows], slot_positions[rows], state, config)
        out = model(ids, attention_mask[rows], token_type_ids[rows], slot_positions[rows])
        return torch.sigmoid(out.logits.float())

    return run


def text_cache_problem(model) -> str | None:
    """Why the text cache cannot reproduce `model`'s forward exactly, or None. The cache re-runs BERT layers
    with absolute positions set explicitly, SDPA at BERT's scaling (1/sqrt(head size)) and no dropout."""
    position = getattr(model.config, "position_embedding_type", "absolute") or "absolute"
    if position != "absolute":
        return f"position_embedding_type={position!r}, the cache needs absolute positions"
    if model.training and (model.config.hidden_dropout_prob > 0 or model.config.attention_probs_dropout_prob > 0):
        return "the model is in train mode with dropout; call model.eval() to decode with the cache"
    for layer in model.bert.encoder.layer:
        attention = layer.attention.self
        expected = attention.attention_head_size**-0.5
        if abs(getattr(attention, "scaling", expected) - expected) > 1e-12:
            return f"attention scaling {attention.scaling} is not 1/sqrt(head size)"
    return None


class TextCache:
    """Keys and values of the text at every layer, computed once; rounds run only the template.

    Valid when text tokens do not attend to the template (`text_attends_labels=False`): the text's
    hidden states then do not depend on which labels are shown.
    """

    def __init__(self, model, input_ids, attention_mask, token_type_ids, slot_positions) -> None:
        self.model, self.config = model, model.config
        template = template_positions_mask(self.config, slot_positions, input_ids.shape[1])
        size = self.config.num_labels * self.config.tokens_per_label
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)
        text_index = (template.long().argsort(dim=1, stable=True))[:, : input_ids.shape[1] - size]
        self.tmpl_index = (slot_positions[:, :1] - self.config.prompt_tokens_before) + torch.arange(
            size, device=input_ids.device
        )
        self.input_ids, self.token_type_ids, self.slot_positions = input_ids, token_type_ids, slot_positions
        self.text = encode_text(
            model.bert,
            input_ids.gather(1, text_index),
            attention_mask.gather(1, text_index),
            token_type_ids.gather(1, text_index),
            positions.gather(1, text_index),
        )

    def probabilities(self, rows: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        ids = show_labels(self.input_ids[rows], self.slot_positions[rows], state, self.config)
        index = self.tmpl_index[rows]
        inputs = {
            "input_ids": ids.gather(1, index),
            "token_type_ids": self.token_type_ids[rows].gather(1, index),
            "position_ids": index,
            "valid": torch.ones_like(index, dtype=torch.bool),
        }
        hidden = run_label_stream(
            self.model.bert, self.text.rows(rows), inputs, self.slot_positions[rows] - index[:, :1]
        )
        return torch.sigmoid(self.model._slot_logits(hidden).float())
