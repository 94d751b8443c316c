"""lmmlc models: label-mask (cloze) multi-label classification and the pooled baseline.

Travels to the Hub with `configuration_lmmlc.py`: imports only torch, transformers and that file.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoTokenizer, PreTrainedTokenizerBase
from transformers.modeling_outputs import ModelOutput
from transformers.models.bert.modeling_bert import (
    BertModel,
    BertPredictionHeadTransform,
    BertPreTrainedModel,
)

from .configuration_lmmlc import LabelMaskConfig, MultiLabelBertConfig

try:  # transformers >= 5: initialisers that skip weights already loaded from a checkpoint
    from transformers import initialization as init
except ImportError:  # transformers 4.x only initialises missing weights
    from torch.nn import init

IGNORE_INDEX = -100
HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "proxies", "revision", "subfolder", "token")


@dataclass
class MultiLabelOutput(ModelOutput):
    """Output of the lmmlc models.

    Args:
        loss: weighted label loss plus weighted MLM loss, shape `()`, when labels are given.
        logits: YES-versus-NO score of every label, shape `(batch, num_labels)`; sigmoid gives
            the probability.
        hidden_states: per-layer hidden states `(batch, seq_len, hidden)` when asked for.
        attentions: per-layer attention maps when asked for.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


# --- losses: pure functions of logits (batch, labels) and targets (IGNORE_INDEX = not a target)


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


# --- the label template, built on padded tokenizer output in one vectorised pass


def _template_tensors(config: LabelMaskConfig, device: torch.device) -> tuple[torch.Tensor, ...]:
    ids, offsets, owners = config.template_token_ids()
    return tuple(torch.tensor(x, dtype=torch.long, device=device) for x in (ids, offsets, owners))


def _fill_slots(
    template: torch.Tensor, offsets: torch.Tensor, label_state: torch.Tensor, config: LabelMaskConfig
) -> torch.Tensor:
    """Show YES/NO at revealed slots (state 1/0); state -1 keeps the mask."""
    slots = template[:, offsets]
    shown = torch.where(label_state == 1, config.yes_token_id, config.no_token_id)
    template[:, offsets] = torch.where(label_state >= 0, shown, slots)
    return template


def insert_label_template(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    config: LabelMaskConfig,
    label_state: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Insert the label template into right-padded `[CLS] text [SEP]` rows; truncate text, never the template.

    Args:
        input_ids: `(batch, text_len)` tokenizer output with special tokens, right-padded.
        attention_mask: `(batch, text_len)`, 1 on real tokens.
        config: the model config with template token ids assigned.
        label_state: `(batch, num_labels)`: -1 masked, 0 shown as NO, 1 shown as YES; None = all masked.

    Returns:
        input_ids, attention_mask, token_type_ids and text_mask (True on text tokens) of shape
        `(batch, seq_len)`, and slot_positions `(batch, num_labels)`, each label's slot position.
    """
    budget = config.text_budget()
    batch, device = input_ids.shape[0], input_ids.device
    template, offsets, owners = _template_tensors(config, device)
    size = template.numel()
    lengths = attention_mask.long().sum(dim=1)
    if (lengths < 3).any():
        row = int((lengths < 3).nonzero()[0])
        raise ValueError(f"Example {row} has an empty text: every text needs at least one token besides [CLS]/[SEP].")
    if label_state is not None and label_state.shape != (batch, config.num_labels):
        raise ValueError(f"label_state has shape {tuple(label_state.shape)}, expected ({batch}, {config.num_labels}).")
    template = template.expand(batch, size).clone()
    if label_state is not None:
        template = _fill_slots(template, offsets, label_state.to(device), config)
    keep = (lengths - 2).clamp(max=budget)[:, None]
    at_end = config.template_position == "end"
    text_start = 1 if at_end else size + 2
    tmpl_start = keep + 2 if at_end else torch.ones_like(keep)
    total = keep + size + 3
    pos = torch.arange(int(total.max()), device=device)[None, :]
    out = torch.full((batch, pos.shape[1]), config.pad_token_id or 0, dtype=input_ids.dtype, device=device)
    in_text = (pos >= text_start) & (pos < text_start + keep)
    in_tmpl = (pos >= tmpl_start) & (pos < tmpl_start + size)
    text_src = (pos - text_start + 1).clamp(0, input_ids.shape[1] - 1).expand(batch, -1)
    tmpl_src = (pos - tmpl_start).clamp(0, size - 1)
    out = torch.where(in_text, input_ids.gather(1, text_src), out)
    out = torch.where(in_tmpl, template.gather(1, tmpl_src), out)
    sep = input_ids.gather(1, lengths[:, None] - 1)
    first_sep = keep + 1 if at_end else torch.full_like(keep, size + 1)
    out[:, :1] = input_ids[:, :1]
    out.scatter_(1, first_sep, sep).scatter_(1, total - 1, sep)
    token_types = torch.zeros_like(out)
    if config.token_type_strategy == "same":
        token_types = in_tmpl.long().expand(batch, -1)
    elif config.token_type_strategy == "per_label":
        token_types = torch.where(in_tmpl, owners[tmpl_src] + 1, token_types)
    return {
        "input_ids": out,
        "attention_mask": (pos < total).long(),
        "token_type_ids": token_types.contiguous(),
        "slot_positions": tmpl_start + offsets[None, :],
        "text_mask": in_text,
    }


# --- heads


class ClozeHead(nn.Module):
    """BERT's MLM prediction head, with output weights read from the word embeddings.

    Laid out as `cls.predictions` so a BERT checkpoint's MLM head loads into it; scoring a few
    token ids (YES/NO) costs a few dot products instead of a full-vocabulary projection.
    """

    def __init__(self, config: MultiLabelBertConfig) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(
        self, hidden: torch.Tensor, embeddings: torch.Tensor, token_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        weight, bias = embeddings, self.bias
        if token_ids is not None:
            weight, bias = embeddings[token_ids], bias[token_ids]
        return F.linear(self.transform(hidden), weight, bias)


class MLMHead(nn.Module):
    def __init__(self, config: MultiLabelBertConfig) -> None:
        super().__init__()
        self.predictions = ClozeHead(config)


class LayerWeightedPooling(nn.Module):
    """Softmax-weighted mix of every layer's masked mean (embeddings included)."""

    def __init__(self, config: MultiLabelBertConfig) -> None:
        super().__init__()
        self.layer_weights = nn.Parameter(torch.zeros(config.num_hidden_layers + 1))

    def forward(self, hidden_states: tuple[torch.Tensor, ...], attention_mask: torch.Tensor) -> torch.Tensor:
        means = torch.stack([masked_mean_pool(h, attention_mask) for h in hidden_states], dim=0)
        weights = torch.softmax(self.layer_weights.float(), dim=0).to(means.dtype)
        return torch.einsum("l,lbh->bh", weights, means)


def masked_mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of `hidden` (batch, seq, hidden) over positions where `attention_mask` is 1."""
    mask = attention_mask[..., None].to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


# --- models


class _MultiLabelPreTrainedModel(BertPreTrainedModel):
    """Shared loading, saving, init and loss plumbing of the lmmlc models."""

    config_class = MultiLabelBertConfig

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, ClozeHead):
            init.zeros_(module.bias)
        elif isinstance(module, LayerWeightedPooling):
            init.zeros_(module.layer_weights)

    def save_pretrained(self, save_directory: str, *args: Any, **kwargs: Any) -> None:
        """`PreTrainedModel.save_pretrained`, with AutoModel and AutoModelForSequenceClassification in auto_map."""
        if self._auto_class is not None:
            name = f"{type(self).__module__.split('.')[-1]}.{type(self).__name__}"
            auto_map = dict(getattr(self.config, "auto_map", None) or {})
            auto_map.update(AutoModel=name, AutoModelForSequenceClassification=name)
            self.config.auto_map = auto_map
        super().save_pretrained(save_directory, *args, **kwargs)

    def _mlm_loss(self, hidden: torch.Tensor, mlm_targets: torch.Tensor) -> torch.Tensor:
        if self.cls is None:
            raise ValueError("mlm_targets were given but this model has no MLM head: set mlm_loss_weight > 0.")
        picked = mlm_targets != IGNORE_INDEX
        embeddings = self.bert.get_input_embeddings().weight
        scores = self.cls.predictions(hidden[picked], embeddings)
        return F.cross_entropy(scores.float(), mlm_targets[picked]) if picked.any() else scores.sum() * 0

    def _total_loss(
        self, logits: torch.Tensor, labels: torch.Tensor | None, hidden: torch.Tensor, mlm_targets: torch.Tensor | None
    ) -> torch.Tensor | None:
        loss = None
        if labels is not None:
            loss = self.config.label_loss_weight * multilabel_loss(logits, labels, self.config)
        if mlm_targets is not None:
            mlm = self.config.mlm_loss_weight * self._mlm_loss(hidden, mlm_targets)
            loss = mlm if loss is None else loss + mlm
        return loss


class BertForLabelMaskClassification(_MultiLabelPreTrainedModel):
    """BERT reading, at each label's slot in the template, a YES-versus-NO cloze score.

    Warm start from a plain BERT folder or Hub id with
    `BertForLabelMaskClassification.from_pretrained(bert_path, label_names=[...], **template_options)`.
    """

    config_class = LabelMaskConfig

    def __init__(self, config: LabelMaskConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = MLMHead(config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        slot_positions: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        mlm_targets: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> MultiLabelOutput:
        """Score every label.

        Args:
            input_ids: `(batch, seq_len)` from `DataCollatorForLabelMask`, or plain tokenizer output
                (`[CLS] text [SEP]`), into which the all-masked template is inserted.
            attention_mask / token_type_ids: `(batch, seq_len)`.
            slot_positions: `(batch, num_labels)` position of every label's slot; None = plain input.
            labels: `(batch, num_labels)` 0/1 targets, IGNORE_INDEX (-100) where a label is revealed.
            mlm_targets: `(batch, seq_len)` token targets for joint MLM, -100 elsewhere.
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if slot_positions is None:
            built = insert_label_template(input_ids, attention_mask, self.config)
            input_ids, attention_mask = built["input_ids"], built["attention_mask"]
            token_type_ids, slot_positions = built["token_type_ids"], built["slot_positions"]
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        hidden = outputs.last_hidden_state
        index = slot_positions[..., None].expand(-1, -1, hidden.shape[-1])
        yes_no = torch.tensor([self.config.no_token_id, self.config.yes_token_id], device=hidden.device)
        scores = self.cls.predictions(hidden.gather(1, index), self.bert.get_input_embeddings().weight, yes_no)
        logits = scores[..., 1] - scores[..., 0]
        loss = self._total_loss(logits, labels, hidden, mlm_targets)
        return MultiLabelOutput(loss, logits, outputs.hidden_states, outputs.attentions)

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str,
        *model_args: Any,
        label_names: list[str] | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        **kwargs: Any,
    ) -> BertForLabelMaskClassification:
        """Load an lmmlc checkpoint, or warm-start one from a plain BERT when `label_names` is given.

        Args:
            label_names: the labels; turns a plain BERT checkpoint into a label-mask model.
            tokenizer: the checkpoint's tokenizer (loaded from the same path when None). When the
                vocabulary has too few `[unusedN]` slots, template tokens are added to it (save it).
            kwargs: `LabelMaskConfig` options (template, loss, ...) and the usual loading options.
        """
        if label_names is None:
            return super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        return _warm_start(cls, pretrained_model_name_or_path, label_names, tokenizer, model_args, kwargs)


class BertForMultiLabelClassification(_MultiLabelPreTrainedModel):
    """The baseline: pooled BERT features -> linear -> one sigmoid score per label."""

    def __init__(self, config: MultiLabelBertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=config.pooling == "cls")
        self.layer_pool = LayerWeightedPooling(config) if config.pooling == "layer_weighted" else None
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.cls = MLMHead(config) if config.mlm_loss_weight > 0 else None
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        mlm_targets: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
    ) -> MultiLabelOutput:
        """Score every label from pooled features; arguments as in `BertForLabelMaskClassification`."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        layered = self.layer_pool is not None
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            output_hidden_states=output_hidden_states or layered,
            output_attentions=output_attentions,
        )
        if layered:
            pooled = self.layer_pool(outputs.hidden_states, attention_mask)
        elif self.config.pooling == "mean":
            pooled = masked_mean_pool(outputs.last_hidden_state, attention_mask)
        else:
            pooled = outputs.pooler_output
        logits = self.classifier(self.dropout(pooled))
        loss = self._total_loss(logits, labels, outputs.last_hidden_state, mlm_targets)
        return MultiLabelOutput(loss, logits, outputs.hidden_states, outputs.attentions)

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: str, *model_args: Any, label_names: list[str] | None = None, **kwargs: Any
    ) -> BertForMultiLabelClassification:
        """Load a checkpoint; with `label_names`, start a fresh baseline head on a plain BERT."""
        if label_names is not None:
            config_kwargs, kwargs = _split_config_kwargs(cls.config_class, kwargs)
            config = _config_from(cls.config_class, pretrained_model_name_or_path, label_names, config_kwargs, kwargs)
            kwargs["config"] = config
        return super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)


# --- warm start from a plain BERT


def _config_params(config_class: type) -> set[str]:
    return {name for klass in config_class.__mro__ for name in inspect.signature(klass.__init__).parameters}


def _split_config_kwargs(config_class: type, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate config options from loading options."""
    params = _config_params(config_class) - {"self", "kwargs", "args"}
    config_kwargs = {k: v for k, v in kwargs.items() if k in params}
    return config_kwargs, {k: v for k, v in kwargs.items() if k not in params}


def _config_from(
    config_class: type, path: str, label_names: list[str], config_kwargs: dict[str, Any], load_kwargs: dict[str, Any]
) -> MultiLabelBertConfig:
    """Build an lmmlc config from a checkpoint's config.json, the label names and overrides."""
    hub = {k: load_kwargs[k] for k in HUB_KWARGS if k in load_kwargs}
    base, _ = config_class.get_config_dict(path, **hub)
    if base.get("model_type") in ("lmmlc", "lmmlc_baseline") and base.get("id2label"):
        raise ValueError(
            f"{path} is already a trained lmmlc model; load it without label_names, or start from its encoder."
        )
    for key in ("model_type", "architectures", "id2label", "label2id", "num_labels", "auto_map"):
        base.pop(key, None)
    return config_class(**{**base, **config_kwargs, "label_names": list(label_names)})


def _unused_token_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    vocab = tokenizer.get_vocab()
    unused = [(int(m.group(1)), i) for tok, i in vocab.items() if (m := re.fullmatch(r"\[unused(\d+)\]", tok))]
    return [i for _, i in sorted(unused)]


def _assign_template_tokens(config: LabelMaskConfig, tokenizer: PreTrainedTokenizerBase) -> int:
    """Give the template its token ids: `[unusedN]` slots when the vocab has enough, else new tokens.

    Returns the vocabulary size the model needs.
    """
    n, width = config.num_labels, config.prompt_tokens_before + config.prompt_tokens_after
    needed = 2 + n * width + (n if config.mask_mode == "per_label" else 0)
    ids = _unused_token_ids(tokenizer)
    if len(ids) < needed:
        tokenizer.add_tokens([f"[lmmlc_{k}]" for k in range(needed)], special_tokens=True)
        ids = tokenizer.convert_tokens_to_ids([f"[lmmlc_{k}]" for k in range(needed)])
    if config.mask_mode == "shared" and tokenizer.mask_token_id is None:
        raise ValueError("mask_mode='shared' needs a tokenizer with a mask token; use mask_mode='per_label'.")
    it = iter(ids[:needed])
    config.yes_token_id, config.no_token_id = next(it), next(it)
    config.prompt_token_ids = [[next(it) for _ in range(width)] for _ in range(n)]
    config.label_mask_token_ids = [next(it) for _ in range(n)] if config.mask_mode == "per_label" else None
    config.mask_token_id = tokenizer.mask_token_id
    return max(len(tokenizer), config.vocab_size)


def _mean_embedding(
    embeddings: torch.Tensor, tokenizer: PreTrainedTokenizerBase, text: str, fallback: int
) -> torch.Tensor:
    pieces = tokenizer(re.sub(r"[._\-/]+", " ", text), add_special_tokens=False)["input_ids"]
    return embeddings[pieces or [fallback]].mean(dim=0)


@torch.no_grad()
def _init_template_embeddings(model: BertForLabelMaskClassification, tokenizer: PreTrainedTokenizerBase) -> None:
    """Start YES/NO from "yes"/"no" and each label's prompt and mask tokens from its name's word pieces."""
    config, weight = model.config, model.bert.get_input_embeddings().weight
    fallback = tokenizer.mask_token_id if tokenizer.mask_token_id is not None else tokenizer.unk_token_id
    weight[config.yes_token_id] = _mean_embedding(weight, tokenizer, "yes", fallback)
    weight[config.no_token_id] = _mean_embedding(weight, tokenizer, "no", fallback)
    for label, name in enumerate(config.label_names):
        vector = _mean_embedding(weight, tokenizer, name, fallback)
        own = list(config.prompt_token_ids[label])
        if config.mask_mode == "per_label":
            own.append(config.label_mask_token_ids[label])
        weight[own] = vector


@torch.no_grad()
def _grow_token_types(model: BertForLabelMaskClassification) -> None:
    """Give every label its own token type, starting from the second segment's embedding."""
    old = model.bert.embeddings.token_type_embeddings
    rows = model.config.num_labels + 1
    new = nn.Embedding(rows, old.embedding_dim).to(device=old.weight.device, dtype=old.weight.dtype)
    new.weight[0] = old.weight[0]
    new.weight[1:] = old.weight[min(1, old.num_embeddings - 1)]
    model.bert.embeddings.token_type_embeddings = new
    model.config.type_vocab_size = rows


def _warm_start(
    cls: type,
    path: str,
    label_names: list[str],
    tokenizer: PreTrainedTokenizerBase | None,
    model_args: tuple,
    kwargs: dict[str, Any],
) -> BertForLabelMaskClassification:
    config_kwargs, load_kwargs = _split_config_kwargs(cls.config_class, kwargs)
    config = _config_from(cls.config_class, path, label_names, config_kwargs, load_kwargs)
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(path, **{k: load_kwargs[k] for k in HUB_KWARGS if k in load_kwargs})
    vocab_size = _assign_template_tokens(config, tokenizer)
    config._check_token_ids()
    model = super(BertForLabelMaskClassification, cls).from_pretrained(path, *model_args, config=config, **load_kwargs)
    if vocab_size > model.config.vocab_size:
        model.resize_token_embeddings(vocab_size, mean_resizing=False)
        bias = model.cls.predictions.bias
        model.cls.predictions.bias = nn.Parameter(F.pad(bias.data, (0, vocab_size - bias.numel())))
    if config.token_type_strategy == "per_label":
        _grow_token_types(model)
    _init_template_embeddings(model, tokenizer)
    return model
