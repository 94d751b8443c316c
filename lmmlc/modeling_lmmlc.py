"""lmmlc models: label-mask (cloze) multi-label classification and the pooled baseline.

Travels to the Hub with the files it imports (`configuration_lmmlc.py`, `decoding_lmmlc.py`, `evidence_lmmlc.py`,
`label_stream_lmmlc.py`, `losses_lmmlc.py`, `new_labels_lmmlc.py`, `pipeline_lmmlc.py`, `shortlist_lmmlc.py`,
`template_lmmlc.py`, `warm_start_lmmlc.py`, `windows_lmmlc.py`):
imports only torch, transformers and those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedTokenizerBase
from transformers.modeling_outputs import ModelOutput
from transformers.models.bert.modeling_bert import (
    BertModel,
    BertPredictionHeadTransform,
    BertPreTrainedModel,
)

from .configuration_lmmlc import (
    MASKED,
    LabelMaskConfig,
    MultiLabelBertConfig,
    max_text_length,
)
from .decoding_lmmlc import DecodePlan, LabelMaskDecodeOutput, round_runner
from .evidence_lmmlc import token_evidence  # imported here too: transformers 4.x copies only this file's imports
from .label_stream_lmmlc import (
    TextStream,
    attention_dropout,
    block_sigmoid,
    encode_text,
    is_exporting,
    label_logits,
)
from .losses_lmmlc import IGNORE_INDEX, multilabel_loss
from .new_labels_lmmlc import add_labels
from .pipeline_lmmlc import PIPELINE_TASK, MultiLabelClassificationPipeline
from .shortlist_lmmlc import LabelRanker, ranker_loss
from .template_lmmlc import (
    LEGACY_MASKS,
    template_inputs,
    template_positions_mask,
    text_blind_attention_mask,
)
from .warm_start_lmmlc import config_from, split_config_kwargs, warm_start, warn_warm_start
from .windows_lmmlc import encode_windows, refuse_windowed_mlm, split_windows

try:  # transformers >= 5: initialisers that skip weights already loaded from a checkpoint
    from transformers import initialization as init
except ImportError:  # transformers 4.x only initialises missing weights
    from torch.nn import init


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


def check_input_ids(config: MultiLabelBertConfig, input_ids: torch.Tensor) -> None:
    """Refuse `input_ids` `(batch, seq_len)` that this model's tokenizer cannot have made: ids past its vocabulary, or
    (when the config records it, as lmmlc-train saves it) a first token other than its [CLS]. A tokenizer of another
    vocabulary gives other ids, which the model would otherwise score without error. Skipped in export tracing."""
    if not input_ids.numel() or is_exporting():
        return
    windows = config.windows() if hasattr(config, "windows") else None
    limit = max_text_length(config, input_ids.shape[1]) if windows is not None else input_ids.shape[1]
    if input_ids.shape[1] > limit:
        raise ValueError(
            f"The inputs hold {input_ids.shape[1]} tokens; this model reads at most {limit} ({windows[2]} windows of "
            f"{windows[0]}): tokenize with truncation=True, max_length={limit} (the pipeline and lmmlc-predict do)."
        )
    cls_id = getattr(config, "cls_token_id", None)
    wrong_start = cls_id is not None and bool((input_ids[:, 0] != cls_id).any())
    if wrong_start or int(input_ids.max()) >= config.vocab_size or int(input_ids.min()) < 0:
        what = f"do not start with its [CLS] (id {cls_id})" if wrong_start else "hold ids outside its vocabulary"
        raise ValueError(
            f"The inputs {what}: they were not made by the tokenizer saved with this model. Fix: load the tokenizer "
            "from the model folder (AutoTokenizer.from_pretrained(folder)) and keep its special tokens."
        )


def masked_mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of `hidden` (batch, seq, hidden) over positions where `attention_mask` is 1."""
    mask = attention_mask[..., None].to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def windowed_outputs(outputs: Any, windows: Any) -> Any:
    """A `BertModel` output over `windows.used_rows` laid out per text (`Windows.laid`): last hidden state and hidden
    states `(batch, count * size, hidden)`, pooler output the mean over the used windows; attentions dropped."""
    hidden = outputs.hidden_states and tuple(windows.laid(h, 1) for h in outputs.hidden_states)
    pooler = getattr(outputs, "pooler_output", None)
    return type(outputs)(
        last_hidden_state=windows.laid(outputs.last_hidden_state, 1),
        pooler_output=None if pooler is None else windows.pooled(pooler),
        hidden_states=hidden,
    )


def classifier_dropout(config: MultiLabelBertConfig) -> float:
    """Dropout before a pooled head: `classifier_dropout`, else the encoder's hidden dropout."""
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


# --- models


class PooledTextHead(nn.Linear):
    """Per-label linear scores of the mean-pooled text (the pooled baseline's head), added to the cloze scores."""

    def __init__(self, config: MultiLabelBertConfig) -> None:
        super().__init__(config.hidden_size, config.num_labels)
        self.dropout = nn.Dropout(classifier_dropout(config))

    def forward(self, text: TextStream, start: int = 0, size: int | None = None) -> torch.Tensor:
        """Logits `(batch, size)` of labels `start..start + size` (default: every label) of `text` encoded with its last
        layer's outputs. A block of labels is scored with its own rows only, so its product has the shape it had
        before later labels were added (`add_labels`), and the same values to the bit."""
        pooled = self.dropout(masked_mean_pool(text.last_hidden, text.valid))
        if start == 0 and size in (None, self.out_features):
            return super().forward(pooled)
        end = self.out_features if size is None else start + size
        return F.linear(pooled, self.weight[start:end], self.bias[start:end])


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
        elif isinstance(module, PooledTextHead):  # a residual on the cloze scores: zero at the start
            init.zeros_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, LabelRanker):
            init.normal_(module.label_vectors, mean=0.0, std=self.config.initializer_range)
            init.zeros_(module.label_bias)

    def save_pretrained(self, save_directory: str, *args: Any, **kwargs: Any) -> None:
        """`PreTrainedModel.save_pretrained`, with AutoModel and AutoModelForSequenceClassification in auto_map
        and the multi-label pipeline in `custom_pipelines` (its file travels as an import of this one)."""
        if self._auto_class is not None:
            name = f"{type(self).__module__.split('.')[-1]}.{type(self).__name__}"
            auto_map = dict(getattr(self.config, "auto_map", None) or {})
            auto_map.update(AutoModel=name, AutoModelForSequenceClassification=name)
            self.config.auto_map = auto_map
            pipeline = MultiLabelClassificationPipeline
            impl = f"{pipeline.__module__.split('.')[-1]}.{pipeline.__name__}"
            entry = {"impl": impl, "pt": ["AutoModelForSequenceClassification"], "tf": [], "type": "text"}
            self.config.custom_pipelines = {PIPELINE_TASK: entry}
        size = getattr(self.config, "label_shortlist_size", None)
        every_label = getattr(self, "ranker", None) is not None and not size
        if every_label:
            # `label_shortlist_size = 0` on a model with a ranker scores every label (still fusing the ranker's
            # score); saved as a shortlist of every label, which means the same and keeps the ranker on reload
            self.config.label_shortlist_size = self.config.num_labels
        try:
            super().save_pretrained(save_directory, *args, **kwargs)
        finally:
            if every_label:
                self.config.label_shortlist_size = size  # the model in memory keeps what its user set

    @classmethod
    def _load_trained(cls, path: str, *model_args: Any, **kwargs: Any) -> Any:
        """`from_pretrained` of a trained checkpoint: safetensors only (never a pickle), refusing any weight it
        lacks (never a silent random init)."""
        wants_info = kwargs.pop("output_loading_info", False)
        kwargs.setdefault("use_safetensors", True)
        try:
            model, info = super().from_pretrained(path, *model_args, output_loading_info=True, **kwargs)
        except Exception as error:
            if "safetensor" not in type(error).__name__.lower():
                raise
            raise ValueError(
                f"The weights in {path} are truncated or corrupt ({error}): re-save or re-download."
            ) from error
        problems = {k: sorted(info.get(k) or []) for k in ("missing_keys", "mismatched_keys")}
        if any(problems.values()):
            raise ValueError(
                f"{path} does not hold every trained weight of {cls.__name__} ({problems}): the checkpoint is "
                "incomplete, corrupt or not an lmmlc model. Re-save or retrain it; to start from a plain BERT, "
                "pass label_names."
            )
        return (model, info) if wants_info else model

    def label_evidence(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, label_ids: torch.Tensor
    ) -> torch.Tensor:
        """Gradient x input weight of every input token for each label of `label_ids` `(batch, k)`: `(batch, k,
        seq_len)` (`evidence_lmmlc.token_evidence`; the pipeline's `evidence=K` merges them into spans)."""
        return token_evidence(self, input_ids, attention_mask, label_ids)

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
        self.ranker = LabelRanker(config.num_labels, config.hidden_size) if config.label_shortlist_size else None
        self.text_head = PooledTextHead(config) if config.pooled_text_head else None
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
        candidate_ids: torch.Tensor | None = None,
        candidate_state: torch.Tensor | None = None,
        ranker_targets: torch.Tensor | None = None,
        slot_targets: torch.Tensor | None = None,
        sample_size: torch.Tensor | int | None = None,
        uniform_size: torch.Tensor | int | None = None,
    ) -> MultiLabelOutput:
        """Score every label (or, with the label stream, the labels in `candidate_ids`).

        Args:
            input_ids: `(batch, seq_len)` from `DataCollatorForLabelMask`, or plain tokenizer output
                (`[CLS] text [SEP]`), into which the all-masked template is inserted. With
                `config.label_stream`, always the plain text.
            attention_mask / token_type_ids: `(batch, seq_len)`.
            slot_positions: `(batch, num_labels)` position of every label's slot; None = plain input.
            labels: `(batch, num_labels)` 0/1 targets, IGNORE_INDEX (-100) where a label is revealed;
                `(batch, k)` with `candidate_ids`.
            mlm_targets: `(batch, seq_len)` token targets for joint MLM, -100 elsewhere.
            candidate_ids: label stream only: `(batch, k)` the labels to score per example (default: all).
            candidate_state: label stream only: `(batch, k)` (or `(batch, num_labels)` without `candidate_ids`)
                -1 masked, 0 shown as NO, 1 shown as YES; None = all masked.
            ranker_targets: with `config.label_shortlist_size`: `(batch, num_labels)` 0/1 targets of the label
                ranker (-100 skips an entry); default `labels` when they cover every label.
            slot_targets: label stream, training with `config.all_masked_loss_weight` and reveals: `(batch, k)` the
                0/1 truth of every scored label, revealed ones included.
            sample_size: label stream with a ranker, training: score each example's positives and the negatives
                its ranker ranks highest, `sample_size` labels in all (`labels` then covers every label).
            uniform_size: with `sample_size`: that many of them drawn uniformly from the labels not ranked first.

        Returns:
            `MultiLabelOutput` with logits `(batch, num_labels)` or `(batch, k)`. The label stream returns
            no hidden states or attentions. With `config.label_shortlist_size`, eval-mode scoring of every label
            (all masked) scores only the ranker's shortlist with the stream (see `shortlist_lmmlc.py`).
        """
        check_input_ids(self.config, input_ids)
        if self.config.label_stream:
            text = self._encode_stream_text(input_ids, attention_mask, token_type_ids, slot_positions, mlm_targets)
            if sample_size is not None:
                uniform = int(uniform_size or 0)
                candidate_ids, labels, ranker_targets = self._ranked_candidates(text, labels, int(sample_size), uniform)
            view_loss = self._all_masked_loss(text, candidate_ids, candidate_state, labels, slot_targets)
            output = self._stream_forward(text, candidate_ids, candidate_state, labels, mlm_targets, ranker_targets)
            if view_loss is not None and output.loss is not None:
                output.loss = output.loss + view_loss
            return output
        if any(x is not None for x in (candidate_ids, candidate_state, ranker_targets, slot_targets)):
            raise ValueError(
                "candidate_ids/candidate_state/ranker_targets/slot_targets are label-stream inputs; this model has "
                "label_stream=False."
            )
        input_ids, attention_mask, token_type_ids, slot_positions = self._templated(
            input_ids, attention_mask, token_type_ids, slot_positions
        )
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=self._encoder_mask(attention_mask, slot_positions),
            token_type_ids=token_type_ids,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )
        hidden = outputs.last_hidden_state
        logits = self._slot_logits(hidden.gather(1, slot_positions[..., None].expand(-1, -1, hidden.shape[-1])))
        loss = self._total_loss(logits, labels, hidden, mlm_targets)
        return MultiLabelOutput(loss, logits, outputs.hidden_states, outputs.attentions)

    def is_head_parameter(self, name: str) -> bool:
        """Whether parameter `name` is a new head's, trained at `--head_learning_rate`: the pooled text head's and
        the label ranker's. The cloze head's MLM transform stays at the encoder's rate (a larger one hurt,
        docs/experiments/NOTEBOOK.md 1c)."""
        return name.startswith(("text_head.", "ranker."))

    def _encode_stream_text(
        self, input_ids, attention_mask, token_type_ids, slot_positions, mlm_targets=None
    ) -> TextStream:
        """The plain text encoded once for the label stream (refusing a single-sequence template)."""
        if slot_positions is not None:
            raise ValueError("This model runs the label stream: pass the plain text, not a single-sequence template.")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        dropout = attention_dropout(self)
        full = mlm_targets is not None or self.ranker is not None or self.text_head is not None
        windows = split_windows(input_ids, attention_mask, self.config)
        if windows is not None:
            refuse_windowed_mlm(mlm_targets)
            return encode_windows(self.bert, windows, dropout, full)
        return encode_text(self.bert, input_ids, attention_mask, token_type_ids, dropout=dropout, full_last_layer=full)

    def _all_masked_loss(
        self,
        text: TextStream,
        candidate_ids: torch.Tensor | None,
        candidate_state: torch.Tensor | None,
        labels: torch.Tensor | None,
        slot_targets: torch.Tensor | None,
    ) -> torch.Tensor | None:
        """Training with `config.all_masked_loss_weight` w and reveals: w times the loss of the revealing examples'
        scored labels from their all-masked view (nothing revealed; the text encoded once is shared), so the one-pass
        signal is never lost to reveals. None otherwise."""
        config = self.config
        active = self.training and config.uses_reveal_views and labels is not None and candidate_state is not None
        if not active or not bool((candidate_state != MASKED).any()):
            return None
        if slot_targets is None or slot_targets.shape != candidate_state.shape:
            raise ValueError(
                "This model trains with all_masked_loss_weight: a batch that reveals labels also needs slot_targets, "
                "the 0/1 truth of every scored label in candidate_state's shape, as DataCollatorForLabelMask gives."
            )
        rows = (candidate_state != MASKED).any(dim=1).nonzero().squeeze(1)
        ids = None if candidate_ids is None else candidate_ids[rows]
        all_masked = label_logits(self, text.rows(rows), ids, None)  # training: the stream's scores, no ranker
        return config.all_masked_loss_weight * multilabel_loss(all_masked, slot_targets[rows], config)

    def _stream_forward(
        self, text, candidate_ids, candidate_state, labels, mlm_targets, ranker_targets
    ) -> MultiLabelOutput:
        """The label stream: label groups over the encoded text (see `label_stream_lmmlc.py`), plus the label
        ranker's loss when the model has one and, on sampled labels, the pooled text head's loss over every label."""
        ranker_logits = self.ranker_logits(text)
        logits = label_logits(self, text, candidate_ids, candidate_state, ranker_logits)
        loss = self._total_loss(logits, labels, text.last_hidden, mlm_targets)
        sampled = candidate_ids is not None and labels is not None
        if labels is None or not (ranker_logits is not None or (sampled and self.text_head is not None)):
            return MultiLabelOutput(loss, logits)
        if ranker_targets is None and candidate_ids is not None:
            raise ValueError(
                "This model trains a label ranker or a pooled text head on every label: with candidate_ids, also "
                "pass ranker_targets (batch, num_labels), as DataCollatorForLabelMask does."
            )
        targets = labels if ranker_targets is None else ranker_targets
        if ranker_logits is not None:
            loss = loss + ranker_loss(ranker_logits, targets, IGNORE_INDEX)
        if sampled and self.text_head is not None:
            loss = loss + self.config.label_loss_weight * multilabel_loss(self.text_head(text), targets, self.config)
        return MultiLabelOutput(loss, logits)

    def _ranked_candidates(
        self, text: TextStream, labels: torch.Tensor | None, size: int, uniform: int = 0
    ) -> tuple[torch.Tensor, ...]:
        """Per example its positives and the negatives the ranker ranks highest, `size` labels in all (more when an
        example has more positives), `uniform` of them drawn uniformly from the rest instead: `candidate_ids`
        `(batch, k)` sorted, their `labels`, and every label's targets (`ranker_targets`)."""
        if self.ranker is None or labels is None or labels.shape[1] != self.config.num_labels:
            raise ValueError(
                "sample_size (ranked negatives) needs the label ranker and every label's 0/1 labels (batch, "
                "num_labels), as DataCollatorForLabelMask(label_negatives='mixed') gives them."
            )
        keys = torch.where(labels == 1, float("inf"), self.ranker_logits(text).detach().float())
        most = int(labels.sum(dim=1).max())
        k = min(labels.shape[1], max(size, most))
        if uniform:  # the first max(k - uniform, positives) by rank, then uniformly drawn others
            first = keys.topk(max(k - uniform, most), dim=1).indices
            keys = torch.rand(keys.shape, device=keys.device).scatter(1, first, 2.0)
        ids = keys.topk(k, dim=1).indices.sort(dim=1).values
        return ids, labels.gather(1, ids), labels

    def ranker_logits(self, text: TextStream, start: int = 0, size: int | None = None) -> torch.Tensor | None:
        """The label ranker's logits `(batch, size)` of labels `start..start + size` (default: every label) of encoded
        text; None without a ranker.

        The ranker reads the text detached: its loss trains only its own weights, never the encoder the stream
        shares (trained jointly, the ranker's softmax cost the full-scoring model 2.4 points of P@1 and 9 of
        macro-F1 on cooking-stackexchange, docs/experiments/NOTEBOOK.md 5f)."""
        if self.ranker is None:
            return None
        return self.ranker(masked_mean_pool(text.last_hidden, text.valid).detach(), start, size)

    def _templated(self, input_ids, attention_mask, token_type_ids, slot_positions) -> tuple[torch.Tensor, ...]:
        """Collator batches pass through; plain tokenizer output (no slot_positions) gets the all-masked template."""
        return template_inputs(self.config, input_ids, attention_mask, token_type_ids, slot_positions)

    def _encoder_mask(self, attention_mask: torch.Tensor, slot_positions: torch.Tensor) -> torch.Tensor:
        """The 2D padding mask, or with `text_attends_labels=False` the 4D text-blind pattern."""
        if self.config.text_attends_labels:
            return attention_mask
        implementation = getattr(self.config, "_attn_implementation", None) or "eager"
        if "flash" in implementation:
            raise ValueError("text_attends_labels=False needs a custom attention mask: use sdpa or eager attention.")
        template = template_positions_mask(self.config, slot_positions, attention_mask.shape[1])
        dtype = self.bert.get_input_embeddings().weight.dtype
        if LEGACY_MASKS:
            return text_blind_attention_mask(attention_mask, template, dtype, additive=False)[:, 0].to(dtype)
        return text_blind_attention_mask(attention_mask, template, dtype, additive=implementation == "eager")

    def _slot_logits(self, slot_hidden: torch.Tensor) -> torch.Tensor:
        """YES-minus-NO cloze score of every slot, `(batch, num_labels)`."""
        yes_no = torch.tensor([self.config.no_token_id, self.config.yes_token_id], device=slot_hidden.device)
        scores = self.cls.predictions(slot_hidden, self.bert.get_input_embeddings().weight, yes_no)
        return scores[..., 1] - scores[..., 0]

    @torch.no_grad()
    def decode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        slot_positions: torch.Tensor | None = None,
        strategy: str | None = None,
        labels_per_round: int | None = None,
        order: list[int] | None = None,
        thresholds: float | list[float] | None = None,
        seed: int | None = None,
        use_text_cache: bool | None = None,
        margin: float | None = None,
    ) -> LabelMaskDecodeOutput:
        """Decide the labels in rounds, showing decided labels as YES/NO to the next round.

        Args:
            input_ids / attention_mask / token_type_ids / slot_positions: an all-masked batch from
                `DataCollatorForLabelMask`, or plain tokenizer output.
            strategy: "one_shot" (one pass), "confidence" (most certain first: every label within
                `margin` of 0 or 1 and at least the `labels_per_round` most certain), "fixed" (the given or
                configured order) or "random" (a seeded random order per example). Default: `config.decode_strategy`.
            labels_per_round: labels decided per round at least (default: config).
            order: label order of "fixed" (default: `config.decode_order`).
            thresholds: a float or one per label (default: the config's decision thresholds); a
                revealed label shows YES exactly when its probability reaches its threshold.
            seed: seed of the "random" order.
            use_text_cache: encode the text once per batch and run only the template in later
                rounds (needs `text_attends_labels=False`; its default then).
            margin: certainty margin of "confidence" (default: `config.decode_margin`).
        """
        plan = DecodePlan.build(self.config, strategy, labels_per_round, order, thresholds, seed, margin)
        check_input_ids(self.config, input_ids)
        if self.config.label_stream:
            text = self._encode_stream_text(input_ids, attention_mask, token_type_ids, slot_positions)

            def stream(rows: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
                return block_sigmoid(label_logits(self, text.rows(rows), None, state).float(), self.config)

            return plan.run(stream, input_ids.shape[0], input_ids.device)
        input_ids, attention_mask, token_type_ids, slot_positions = self._templated(
            input_ids, attention_mask, token_type_ids, slot_positions
        )
        runner = round_runner(self, input_ids, attention_mask, token_type_ids, slot_positions, use_text_cache)
        return plan.run(runner, input_ids.shape[0], input_ids.device)

    def add_labels(
        self, names: list[str], tokenizer: PreTrainedTokenizerBase, descriptions: list[str] | None = None
    ) -> list[int]:
        """Add labels by name to this trained label-stream model, in place; returns their indices. Scores them at once
        (zero-shot); the old labels' scores do not move. See `new_labels_lmmlc.add_labels`; `tokenizer` may gain
        tokens (save it with the model)."""
        return add_labels(self, names, tokenizer, descriptions)

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str,
        *model_args: Any,
        label_names: list[str] | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        **kwargs: Any,
    ) -> BertForLabelMaskClassification:
        """Load a trained lmmlc checkpoint (safetensors, every weight present). Passing `label_names` to start
        a new model from a plain BERT still works but is deprecated: use `from_encoder`."""
        if label_names is None:
            return cls._load_trained(pretrained_model_name_or_path, *model_args, **kwargs)
        warn_warm_start(cls)
        return cls.from_encoder(
            pretrained_model_name_or_path, *model_args, label_names=label_names, tokenizer=tokenizer, **kwargs
        )

    @classmethod
    def from_encoder(
        cls,
        encoder_name_or_path: str,
        *model_args: Any,
        label_names: list[str],
        tokenizer: PreTrainedTokenizerBase | None = None,
        **kwargs: Any,
    ) -> BertForLabelMaskClassification:
        """A new label-mask model warm-started from a plain BERT encoder (its MLM head too, when it has one).

        Args:
            label_names: the labels, in index order.
            tokenizer: the encoder's tokenizer (loaded from the same path when None). When the vocabulary has
                too few `[unusedN]` slots, template tokens are added to it (save it with the model).
            kwargs: `LabelMaskConfig` options (template, loss, label stream, ...) and the usual loading options.
        """
        load = super().from_pretrained
        return warm_start(cls, encoder_name_or_path, label_names, tokenizer, model_args, kwargs, load)


class BertForMultiLabelClassification(_MultiLabelPreTrainedModel):
    """The baseline: pooled BERT features -> linear -> one sigmoid score per label."""

    def __init__(self, config: MultiLabelBertConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=config.pooling == "cls")
        self.layer_pool = LayerWeightedPooling(config) if config.pooling == "layer_weighted" else None
        self.dropout = nn.Dropout(classifier_dropout(config))
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
        check_input_ids(self.config, input_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        windows = split_windows(input_ids, attention_mask, self.config)
        if windows is not None:
            refuse_windowed_mlm(mlm_targets)
            input_ids, attention_mask = windows.used_rows(windows.input_ids), windows.used_rows(windows.attention_mask)
            token_type_ids = None
        layered = self.layer_pool is not None
        outputs = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            output_hidden_states=output_hidden_states or layered,
            output_attentions=output_attentions,
        )
        if windows is not None:  # every window's tokens laid side by side per text (the pooler: a mean of windows)
            outputs = windowed_outputs(outputs, windows)
            attention_mask = windows.valid().long()
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
        """Load a trained baseline checkpoint. Passing `label_names` to start a new head on a plain BERT still
        works but is deprecated: use `from_encoder`."""
        if label_names is None:
            return cls._load_trained(pretrained_model_name_or_path, *model_args, **kwargs)
        warn_warm_start(cls)
        return cls.from_encoder(pretrained_model_name_or_path, *model_args, label_names=label_names, **kwargs)

    @classmethod
    def from_encoder(
        cls, encoder_name_or_path: str, *model_args: Any, label_names: list[str], **kwargs: Any
    ) -> BertForMultiLabelClassification:
        """A new baseline (pooling + linear head) on a plain BERT encoder.

        Args:
            label_names: the labels, in index order.
            kwargs: `MultiLabelBertConfig` options (pooling, loss, ...) and the usual loading options.
        """
        config_kwargs, kwargs = split_config_kwargs(cls.config_class, kwargs)
        config = config_from(cls.config_class, encoder_name_or_path, label_names, config_kwargs, kwargs)
        return super().from_pretrained(encoder_name_or_path, *model_args, config=config, **kwargs)
