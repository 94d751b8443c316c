"""Configurations of the lmmlc models. Travels to the Hub: imports only transformers."""

from __future__ import annotations

from typing import Any, ClassVar

from transformers import BertConfig

LOSSES = ("bce", "zlpr", "focal")
POOLINGS = ("cls", "mean", "layer_weighted")
MASK_MODES = ("shared", "per_label")
TOKEN_TYPE_STRATEGIES = ("none", "same", "per_label")
DECODE_STRATEGIES = ("one_shot", "confidence", "fixed", "random")
SCHEMA_VERSION = 1
"""Version of the config.json layout this code reads and writes; bumped when a field changes meaning."""
STREAM_ATTENTIONS = ("revealed", "revealed_positions")
RANKER_SCORE_WEIGHT = 0.2
"""`ranker_score_weight` of a new model with a label ranker (chosen on validation P@1: docs/experiments/NOTEBOOK.md
5h)."""
MANY_LABELS_SHORTLIST = 128
"""`label_shortlist_size` of a new label-stream model with more labels than one group (docs/experiments/NOTEBOOK.md
5g, 5h)."""
WHOLE_DOCUMENT_WINDOWS = 8
"""`max_windows` of a new model that can read windows (docs/experiments/NOTEBOOK.md 9: on aapd-small every window's
3-seed test micro-F1 was at least the first window's)."""
MASKED, NO, YES = -1, 0, 1
"""Per-label states of a template slot: unknown (its mask shown), revealed NO, revealed YES."""
TOKENIZER_FIX = "load the tokenizer saved with the model (a model folder needs its tokenizer.json)"


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not supported; choose one of {', '.join(choices)}.")


def check_decode_options(strategy: str, labels_per_round: int, margin: float) -> None:
    """Reject an unknown decoding strategy, fewer than one label per round, or a margin outside [0, 0.5)."""
    _check_choice("strategy", strategy, DECODE_STRATEGIES)
    if labels_per_round < 1:
        raise ValueError(f"labels_per_round must be >= 1, got {labels_per_round}.")
    if not 0.0 <= margin < 0.5:
        raise ValueError(f"The decoding margin must lie in [0, 0.5), got {margin}.")


REMOVED_OPTIONS = {
    "decode_beam_size": None,
    "self_condition_prob": 0.0,
    "soft_reveal_prob": 0.0,
    "template_position": "end",
}
"""Options removed after they measured to lose (docs/experiments/NOTEBOOK.md, "Removed"), with the value that meant
off: a config.json holding that value (or any, for None) loads without it; another value is refused."""
REMOVED_VALUES = {"decode_strategy": ("soft", "certain", "beam"), "label_stream_attention": ("group",)}


def refuse_removed_options(kwargs: dict[str, Any], decode_strategy: str, label_stream_attention: str) -> None:
    """Drop removed options that are off from `kwargs` (a config.json written before their removal); refuse one that
    is on, or a removed decoding strategy or stream attention, naming it (never a silent change of the model)."""
    used = [
        f"{name}={kwargs[name]!r}"
        for name, off in REMOVED_OPTIONS.items()
        if off is not None and kwargs.get(name, off) != off
    ]
    given = {"decode_strategy": decode_strategy, "label_stream_attention": label_stream_attention}
    used += [f"{name}={value!r}" for name, value in given.items() if value in REMOVED_VALUES[name]]
    if used:
        raise ValueError(
            f"{', '.join(used)}: removed from lmmlc after it measured to lose (docs/experiments/NOTEBOOK.md, "
            "'Removed'). Fix: a decoder can be changed in the model's config.json (decode_strategy: one_shot, "
            "confidence, fixed or random); a model trained with a removed option needs the lmmlc release it was "
            "trained with, or retraining."
        )
    for name in REMOVED_OPTIONS:
        kwargs.pop(name, None)


def max_text_length(config: BertConfig, tokenizer_limit: int) -> int:
    """Most tokens of `[CLS] text [SEP]` a model takes: a label-mask model's text budget (room left by the
    template), else its positions; never more than the tokenizer's own limit. A model that reads whole documents
    takes what its windows cover."""
    windows = config.windows() if hasattr(config, "windows") else None
    if windows is not None:  # every window fits the positions on its own
        size, stride, count = windows
        return size + (count - 1) * stride
    budget = getattr(config, "text_budget", None)
    return min(budget() + 2 if budget else config.max_position_embeddings, tokenizer_limit)


def check_tokenizer(tokenizer: Any, config: BertConfig, source: str, fix: str = TOKENIZER_FIX) -> None:
    """Refuse a tokenizer that is not the model's: more tokens than its embeddings, fewer than half of them,
    or (label-mask models) missing the template tokens, whose ids would then mean other words.

    Args:
        source: where the tokenizer was loaded from (a folder or Hub id), named in the error.
        fix: what to do about it, named in the error.
    """
    size, embeddings = len(tokenizer), config.vocab_size
    needed = [i for i in _template_ids(config) if i is not None]
    problem = None
    if size > embeddings or 2 * size < embeddings:
        problem = f"it has {size} tokens for the model's {embeddings} token embeddings"
    elif needed and max(needed) >= size:
        problem = f"it lacks the label template's tokens (ids up to {max(needed)}; it has {size} tokens)"
    if problem is not None:
        raise ValueError(f"The tokenizer of {source} does not belong to its model: {problem}. Fix: {fix}.")


def _template_ids(config: BertConfig) -> list[int | None]:
    """Every token id a label-mask config puts into its template (none for other configs)."""
    ids = [getattr(config, name, None) for name in ("yes_token_id", "no_token_id")]
    if getattr(config, "has_template_tokens", False):
        ids += config.template_token_ids()[0]
    return ids


def resolve_thresholds(config: BertConfig, override: Any = None) -> list[float]:
    """One decision threshold per label, the one rule every prediction path uses: `override` (a float, or one
    value per label) when given, else the config's `label_thresholds`, else its `threshold` (0.5 for a plain
    config without either, e.g. a stock model). Each must lie strictly between 0 and 1."""
    override_given = override is not None
    if override is None:
        override = getattr(config, "label_thresholds", None) or getattr(config, "threshold", 0.5)
    values = override.tolist() if hasattr(override, "tolist") else override
    values = [float(v) for v in values] if isinstance(values, (list, tuple)) else [float(values)]
    if len(values) == 1:
        values = values * config.num_labels
    if len(values) != config.num_labels:
        source = (
            ""
            if override_given
            else (
                f" The config's label_thresholds has {len(values)} values and its id2label {config.num_labels} "
                "labels: one of them was edited; restore it (or set label_thresholds to null to use the global "
                "threshold)."
            )
        )
        raise ValueError(
            f"Got {len(values)} thresholds for {config.num_labels} labels; give 1 or one per label.{source}"
        )
    if not all(0.0 < v < 1.0 for v in values):
        raise ValueError(f"Thresholds must lie strictly between 0 and 1, got {values}.")
    return values


def untuned_thresholds_note(config: BertConfig, source: str) -> str | None:
    """A line saying which thresholds a model without tuned ones predicts at (a Trainer `checkpoint-N` folder, or a
    run without validation: lmmlc-train stores tuned per-label thresholds only in its final folder); None when tuned."""
    if getattr(config, "label_thresholds", None) is not None:
        return None
    threshold = getattr(config, "threshold", 0.5)
    return (
        f"{source} holds no tuned thresholds (a Trainer checkpoint-N folder, or a run without validation): every "
        f"label is predicted at {threshold}. The final folder of lmmlc-train holds the thresholds tuned on validation."
    )


def label_names_of(config: BertConfig) -> list[str]:
    """Label names in index order, of an lmmlc config or of a stock model's plain transformers config."""
    return [config.id2label[i] for i in range(config.num_labels)]


def _label_map(label_names: list[str] | None, kwargs: dict[str, Any]) -> None:
    """Turn `label_names` into id2label/label2id in `kwargs`, rejecting duplicates."""
    if label_names is None:
        return
    names = [str(name) for name in label_names]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Label names must be unique; repeated: {duplicates}.")
    if not names:
        raise ValueError("label_names is empty; give at least one label name.")
    kwargs["id2label"] = dict(enumerate(names))
    kwargs["label2id"] = {name: i for i, name in enumerate(names)}
    kwargs.pop("num_labels", None)


class MultiLabelBertConfig(BertConfig):
    """BERT config plus the options shared by every lmmlc multi-label model (the baseline's config).

    Args:
        label_names: label names in index order; sets `id2label`, `label2id` and `num_labels`.
        classification_loss: "bce" (sigmoid + binary cross-entropy), "zlpr" (multi-label softmax
            cross-entropy, soft-label form) or "focal" (sigmoid focal loss).
        focal_gamma: focusing parameter of the focal loss.
        focal_alpha: weight of positives in the focal loss; None weighs both classes alike.
        label_loss_weight: weight of the classification loss in the total loss.
        mlm_loss_weight: weight of the joint masked-LM loss on the text (0 disables the MLM head).
        pooling: baseline pooling: "mean" (masked mean of the last layer), "cls" (pooled [CLS]) or
            "layer_weighted" (softmax-weighted mix of every layer's masked mean).
        max_windows: whole documents: most windows of `text_window` tokens a text is read in (1: the text is cut).
            None (default): `WHOLE_DOCUMENT_WINDOWS` for a new model without joint MLM (and, for `LabelMaskConfig`,
            with the label stream), else 1; 1 for a config.json written before windows existed.
        window_stride: text tokens from one window's start to the next's (None: `text_window` - 2, no overlap).
        text_window: tokens per window, [CLS]/[SEP] included (None: every position of the encoder).
        threshold: decision threshold on the probability of every label (tuned on validation by
            `lmmlc-train`).
        label_thresholds: one threshold per label; when set, used instead of `threshold`.
        lmmlc_schema_version: config layout version (written on save; None: a new config, not read from an lmmlc
            config.json); a newer one than this code's `SCHEMA_VERSION` is refused rather than misread.
        kwargs: any `BertConfig` field, so a BERT checkpoint's config.json loads into this class.
    """

    model_type = "lmmlc_baseline"
    option_help: ClassVar[dict[str, str]] = {
        "classification_loss": "bce, zlpr or focal.",
        "focal_gamma": "Focusing parameter of the focal loss.",
        "focal_alpha": "Weight of positives in the focal loss (None: equal).",
        "label_loss_weight": "Weight of the classification loss.",
        "mlm_loss_weight": "Weight of the joint MLM loss (needs --mlm_probability > 0).",
        "pooling": "Baseline pooling: cls, mean or layer_weighted.",
        "max_windows": "Whole documents: a text longer than --max_seq_length tokens is read in up to this many "
        "windows of --max_seq_length tokens, each encoded apart; labels attend to, and pooled heads average over, "
        "every window (1: the text is cut; default: 8 for a new model without joint MLM or a single sequence).",
        "window_stride": "Whole documents: text tokens from one window's start to the next's (default: "
        "--max_seq_length - 2, no overlap).",
    }
    """The options a user sets (lmmlc-train's flags are generated from them: type and default from `__init__`)."""

    def __init__(
        self,
        label_names: list[str] | None = None,
        classification_loss: str = "bce",
        focal_gamma: float = 2.0,
        focal_alpha: float | None = None,
        label_loss_weight: float = 1.0,
        mlm_loss_weight: float = 0.0,
        pooling: str = "mean",
        max_windows: int | None = None,
        window_stride: int | None = None,
        text_window: int | None = None,
        threshold: float = 0.5,
        label_thresholds: list[float] | None = None,
        lmmlc_schema_version: int | None = None,
        **kwargs: Any,
    ) -> None:
        if lmmlc_schema_version is not None and int(lmmlc_schema_version) > SCHEMA_VERSION:
            raise ValueError(
                f"This config was written by a newer lmmlc (config schema {lmmlc_schema_version}; this code reads "
                f"up to {SCHEMA_VERSION}): upgrade lmmlc to load it."
            )
        _check_choice("classification_loss", classification_loss, LOSSES)
        _check_choice("pooling", pooling, POOLINGS)
        if focal_gamma < 0 or (focal_alpha is not None and not 0 <= focal_alpha <= 1):
            raise ValueError("focal_gamma must be >= 0 and focal_alpha None or within [0, 1].")
        if label_loss_weight < 0 or mlm_loss_weight < 0:
            raise ValueError("label_loss_weight and mlm_loss_weight must be >= 0.")
        _label_map(label_names, kwargs)
        kwargs.setdefault("problem_type", "multi_label_classification")
        self.classification_loss = classification_loss
        self.focal_gamma = focal_gamma
        self.focal_alpha = focal_alpha
        self.label_loss_weight = label_loss_weight
        self.mlm_loss_weight = mlm_loss_weight
        self.pooling = pooling
        self.max_windows = self._choose_windows(lmmlc_schema_version) if max_windows is None else int(max_windows)
        self.window_stride = None if window_stride is None else int(window_stride)
        self.text_window = None if text_window is None else int(text_window)
        self.threshold = threshold
        self.label_thresholds = label_thresholds
        self.lmmlc_schema_version = SCHEMA_VERSION
        super().__init__(**kwargs)
        self.windows()
        self.decision_thresholds()

    def _choose_windows(self, schema_version: int | None) -> int:
        """`max_windows=None`: `WHOLE_DOCUMENT_WINDOWS` for a new model (no lmmlc config.json behind it) without
        joint MLM, whose targets follow one sequence; 1 for a config.json written before windows existed."""
        return WHOLE_DOCUMENT_WINDOWS if schema_version is None and self.mlm_loss_weight == 0 else 1

    def windows(self) -> tuple[int, int, int] | None:
        """`(size, stride, max_windows)` when the model reads whole documents in windows (`max_windows` > 1; size:
        `text_window`, else every position), else None; raises on settings that cannot work."""
        if self.max_windows < 1:
            raise ValueError(f"max_windows must be >= 1 (1: no windows), got {self.max_windows}.")
        if self.max_windows == 1:
            return None
        size = self.text_window or self.max_position_embeddings
        if not 3 <= size <= self.max_position_embeddings:
            raise ValueError(
                f"text_window={size} (tokens per window, [CLS]/[SEP] included) must lie in "
                f"3..{self.max_position_embeddings} (the encoder's positions): lower --max_seq_length."
            )
        stride = self.window_stride or size - 2
        if not 1 <= stride <= size - 2:
            raise ValueError(
                f"window_stride={stride} must lie in 1..{size - 2} (a window's text tokens): a larger one skips text."
            )
        return size, stride, self.max_windows

    @property
    def label_names(self) -> list[str]:
        """Label names in index order."""
        return label_names_of(self)

    def decision_thresholds(self) -> list[float]:
        """One threshold per label: `label_thresholds` when set, else `threshold` for every label."""
        return resolve_thresholds(self)

    @label_names.setter
    def label_names(self, names: list[str]) -> None:
        maps: dict[str, Any] = {}
        _label_map(names, maps)
        self.id2label, self.label2id = maps["id2label"], maps["label2id"]


class LabelMaskConfig(MultiLabelBertConfig):
    """Config of `BertForLabelMaskClassification`: the label template and its token ids.

    The template holds, for every label, `prompt_tokens_before` prompt tokens, one slot and
    `prompt_tokens_after` prompt tokens; a slot shows the mask (label unknown) or YES/NO (revealed).
    The defaults were chosen on validation (docs/benchmarks/defaults.md); the paper's setting is
    `prompt_tokens_before=1, prompt_tokens_after=1, mask_mode="shared", text_attends_labels=True`.

    Args:
        prompt_tokens_before: learnable prompt tokens before each label's slot.
        prompt_tokens_after: learnable prompt tokens after each label's slot.
        mask_mode: "shared" (every slot shows the tokenizer's [MASK]) or "per_label" (one mask token
            per label, so labels stay distinguishable without prompt tokens).
        token_type_strategy: "none" (all 0), "same" (text 0, template 1) or "per_label" (text 0,
            label i's tokens i + 1; the token-type embedding grows to num_labels + 1 rows).
        yes_token_id / no_token_id: ids of the tokens shown at a revealed slot.
        mask_token_id: id of the shared mask token.
        label_mask_token_ids: per-label mask token ids (mask_mode="per_label").
        prompt_token_ids: per label, the ids of its prompt tokens, before then after the slot.
        text_attends_labels: False lets text tokens attend only to text (template tokens attend to
            everything), in training and inference; decoding then encodes the text once per batch.
        decode_strategy: default strategy of `decode` and of prediction: one_shot, confidence, fixed or random
            (`lmmlc-train` tunes the thresholds on the shipped decoder's validation output).
        labels_per_round: fewest labels decided per decoding round.
        decode_margin: `confidence` decoding also decides every label whose probability is within
            this margin of 0 or 1 (0: exactly `labels_per_round` per round).
        decode_order: label order of `fixed` decoding (e.g. searched on validation).
        label_stream: True encodes the text once and runs label slots as a second stream over it (in groups
            of `label_group_size`; text never attends to labels); any number of labels, and the position
            limit applies to the text alone. False puts the whole template into the text's sequence. None
            (default) chooses: the stream for a new model whose encoder has absolute positions (chosen on
            validation, docs/benchmarks/defaults.md), else one sequence. Stored resolved.
        label_group_size: labels per group of the label stream; labels attend only to their own group
            (and the text), so grouping changes scores unless every label is in one group.
        label_stream_layers: label stream only: label slots join only the top k layers, entering them from the
            embedding layer (None: every layer). Cost per label falls about in proportion; the text still
            runs every layer.
        label_stream_attention: what a label's tokens see besides the text and their own tokens: "revealed"
            (the labels shown as YES/NO; a masked label's score then does not depend on its group or on which
            labels were sampled with it) or "revealed_positions" (sees as
            "revealed", each label at a position of its own, label index modulo `label_group_size`, so a revealed
            label is named by its position and a masked label's score still ignores its group).
        label_shortlist_size: label stream only: train a light label ranker with the model (cosine of the
            mean-pooled text and a vector per label) and, at inference, score with the stream only the N labels it
            ranks first per example; the others score below every shortlisted label and below
            probability 5e-5, in the ranker's order (`shortlist_lmmlc.py`). 0: no ranker, score every label. None
            (default): `MANY_LABELS_SHORTLIST` for a new label-stream model with more labels than one group
            (docs/experiments/NOTEBOOK.md 5h), else no ranker; a trained config keeps what it was trained with
            (null: none).
            Training is unchanged apart from the ranker's loss; decoding in rounds shortlists its first round.
        ranker_score_weight: with a label ranker (`label_shortlist_size`): at inference, add this weight times the
            ranker's log-probability of each scored label (a log-softmax over every label of its `label_blocks`
            block) to its stream logit,
            the retrieve-then-rerank fusion of extreme multi-label systems; training is unchanged (0: the stream's
            scores alone). None (default): `RANKER_SCORE_WEIGHT` for a new model with a ranker, else 0, and 0 for
            a trained config saved without the field.
        all_masked_loss_weight: label stream only: in training batches that reveal labels, also score the revealing
            examples' sampled labels from their all-masked view and add this weight times that loss (0: off).
        pooled_text_head: label stream only: add to every label's cloze score a per-label linear score of the
            mean-pooled text (the pooled baseline's head, zero at the start), trained at `--head_learning_rate`.
            With more labels than one group (labels sampled in training) the head is trained on every label with
            the full loss, and the stream's cloze score is added on the sampled labels. None (default): on for a new
            label-stream model at any label count (one group: docs/experiments/NOTEBOOK.md 1f; past one group: 5i),
            off for a single sequence and for a trained config saved without the field.
        label_blocks: label stream only: sizes of the blocks of labels scored apart (in index order; None: one
            block). `add_labels` appends a block per call, so the labels a model was trained with keep their
            groups, and their scores, to the bit.
        kwargs: see `MultiLabelBertConfig`.
    """

    model_type = "lmmlc"
    option_help: ClassVar[dict[str, str]] = {
        **MultiLabelBertConfig.option_help,
        "prompt_tokens_before": "Prompt tokens before each label slot.",
        "prompt_tokens_after": "Prompt tokens after each label slot.",
        "mask_mode": "shared ([MASK] at every slot) or per_label.",
        "token_type_strategy": "none, same or per_label.",
        "text_attends_labels": "False: text tokens do not see the template (enables text-once decoding).",
        "decode_strategy": "Decoder the model ships with: one_shot, confidence, fixed or random.",
        "labels_per_round": "Fewest labels decided per decoding round.",
        "decode_margin": "Confidence decoding also decides labels within this margin of 0 or 1.",
        "label_stream": "Encode the text once and run the labels as a second stream over it (any number of "
        "labels). Default: the stream for a new model whose encoder has absolute positions.",
        "label_group_size": "Labels per group of the label stream (scored together; with reveals, a label sees "
        "the revealed labels of its group).",
        "label_stream_attention": "Label stream: revealed (a label sees the text, its own tokens and revealed "
        "labels) or revealed_positions (as revealed, each label at a position of its own).",
        "label_stream_layers": "Label stream: labels join only the top N encoder layers, entering them from the "
        "embeddings (default: all).",
        "label_shortlist_size": "Label stream: train a label ranker and score only its top N labels per example at "
        "inference (0: no ranker, score every label; default: 128 with more labels than one --label_group_size, "
        "else 0).",
        "ranker_score_weight": "With --label_shortlist_size: at inference, add this weight times the label ranker's "
        "log-probability to each label's stream logit (0: the stream alone; default: the measured weight).",
        "all_masked_loss_weight": "Label stream, training with reveals: weight of a loss on every label from the "
        "all-masked view (0: off).",
        "pooled_text_head": "Label stream: add a per-label linear score of the mean-pooled text to each label's "
        "cloze score, trained at --head_learning_rate on every label (default: on with the label stream; false: "
        "cloze scores only).",
    }

    def __init__(
        self,
        prompt_tokens_before: int = 0,
        prompt_tokens_after: int = 0,
        mask_mode: str = "per_label",
        token_type_strategy: str = "same",
        yes_token_id: int | None = None,
        no_token_id: int | None = None,
        mask_token_id: int | None = None,
        label_mask_token_ids: list[int] | None = None,
        prompt_token_ids: list[list[int]] | None = None,
        text_attends_labels: bool = False,
        decode_strategy: str = "one_shot",
        labels_per_round: int = 1,
        decode_margin: float = 0.1,
        decode_order: list[int] | None = None,
        label_stream: bool | None = None,
        label_group_size: int = 64,
        label_stream_layers: int | None = None,
        label_stream_attention: str = "revealed",
        label_shortlist_size: int | None = None,
        ranker_score_weight: float | None = None,
        all_masked_loss_weight: float = 0.0,
        pooled_text_head: bool | None = None,
        label_blocks: list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        refuse_removed_options(kwargs, decode_strategy, label_stream_attention)
        windows_given = kwargs.get("max_windows") is not None
        if int(label_group_size) < 1:
            raise ValueError(
                f"label_group_size must be >= 1 (labels per group of the label stream), got {label_group_size}."
            )
        _check_choice("label_stream_attention", label_stream_attention, STREAM_ATTENTIONS)
        check_decode_options(decode_strategy, labels_per_round, decode_margin)
        _check_choice("mask_mode", mask_mode, MASK_MODES)
        _check_choice("token_type_strategy", token_type_strategy, TOKEN_TYPE_STRATEGIES)
        if prompt_tokens_before < 0 or prompt_tokens_after < 0:
            raise ValueError("prompt_tokens_before and prompt_tokens_after must be >= 0.")
        if mask_mode == "shared" and prompt_tokens_before + prompt_tokens_after == 0:
            raise ValueError(
                "mask_mode='shared' without prompt tokens makes every label's slot the same token; "
                "use mask_mode='per_label' or at least one prompt token."
            )
        self.prompt_tokens_before = int(prompt_tokens_before)
        self.prompt_tokens_after = int(prompt_tokens_after)
        self.mask_mode = mask_mode
        self.token_type_strategy = token_type_strategy
        self.yes_token_id = yes_token_id
        self.no_token_id = no_token_id
        self.mask_token_id = mask_token_id
        self.label_mask_token_ids = label_mask_token_ids
        self.prompt_token_ids = prompt_token_ids
        self.text_attends_labels = bool(text_attends_labels)
        self.decode_strategy = decode_strategy
        self.labels_per_round = int(labels_per_round)
        self.decode_margin = float(decode_margin)
        self.decode_order = decode_order
        self.label_group_size = int(label_group_size)
        self.label_stream_attention = label_stream_attention
        super().__init__(**kwargs)
        self.label_stream = self._choose_stream() if label_stream is None else bool(label_stream)
        if self.label_stream:
            self.text_attends_labels = False
        elif self.max_windows > 1 and not windows_given:  # the default: a single sequence reads one window
            self.max_windows = 1
        elif self.max_windows > 1:
            raise ValueError(
                f"max_windows={self.max_windows} (whole documents) needs the label stream: a single sequence holds "
                "the text and the template within the encoder's positions. Use label_stream=True or max_windows=1."
            )
        self.label_stream_layers = None if label_stream_layers is None else int(label_stream_layers)
        if self.label_stream_layers is not None and not 1 <= self.label_stream_layers <= self.num_hidden_layers:
            raise ValueError(
                f"label_stream_layers={label_stream_layers}: give 1..{self.num_hidden_layers} (the encoder's layers) "
                "or None (every layer)."
            )
        self.label_shortlist_size = (
            self._choose_shortlist() if label_shortlist_size is None else int(label_shortlist_size)
        )
        self.ranker_score_weight = (
            self._choose_ranker_weight() if ranker_score_weight is None else float(ranker_score_weight)
        )
        self.all_masked_loss_weight = float(all_masked_loss_weight)
        self.pooled_text_head = self._choose_pooled_head() if pooled_text_head is None else bool(pooled_text_head)
        self.label_blocks = None if label_blocks is None else [int(size) for size in label_blocks]
        self.check_label_blocks()
        self._check_stream_options()
        if self.all_masked_loss_weight < 0:
            raise ValueError(f"all_masked_loss_weight must be >= 0, got {self.all_masked_loss_weight}.")
        if self.all_masked_loss_weight > 0 and not self.label_stream:
            raise ValueError(
                "all_masked_loss_weight needs label_stream=True (the all-masked view reruns only the label stream "
                "over the text encoded once)."
            )
        self.check_decoder(self.decode_strategy, f"decode_strategy={self.decode_strategy!r}")
        self.text_budget()
        self._check_token_ids()
        if decode_order is not None:
            self.check_order(decode_order)

    @property
    def tokens_per_label(self) -> int:
        """Template tokens each label takes: its prompt tokens and its slot."""
        return self.prompt_tokens_before + 1 + self.prompt_tokens_after

    @property
    def has_template_tokens(self) -> bool:
        """Whether the template token ids are assigned (they are once warm-started or trained)."""
        return self.yes_token_id is not None

    @property
    def revealed_labels_identifiable(self) -> bool:
        """Whether a label shown as YES/NO can be told apart from the others: in one sequence (or a stream group
        laid out as one) labels sit at their own positions; in the stream with `revealed` attention every label
        sits at the same positions, so only its prompt tokens or its own token type name it."""
        if not self.label_stream or self.label_stream_attention != "revealed":
            return True
        return self.tokens_per_label > 1 or self.token_type_strategy == "per_label"

    def check_reveals(self, what: str) -> None:
        """Refuse `what` (reveals in training, decoding in rounds) where revealed labels would be anonymous."""
        if not self.revealed_labels_identifiable:
            raise ValueError(
                f"{what} shows labels as YES/NO, but in this label stream (one token per label, "
                "label_stream_attention='revealed') every label sits at the same positions, so a revealed label "
                "cannot be told apart from the others. Fix: --label_stream_attention revealed_positions (each label "
                "at a position of its own: configs/rounds.yaml, the stream form whose rounds came closest to pay), or "
                "--prompt_tokens_before 1, or --token_type_strategy per_label, or --label_stream false "
                "(configs/paper.yaml)."
            )

    def check_decoder(self, strategy: str, what: str) -> None:
        """Refuse a decoding `strategy` (named in errors as `what`) that this model cannot run: rounds where it cannot
        show the decided labels (`check_reveals`); one_shot always runs."""
        if strategy != "one_shot":
            self.check_reveals(what)

    @property
    def uses_reveal_views(self) -> bool:
        """Whether training batches that reveal labels also need the all-masked view."""
        return self.all_masked_loss_weight > 0

    def _check_stream_options(self) -> None:
        """Refuse stream options on a single-sequence model and the stream on encoders it cannot re-run."""
        if self.label_stream_layers is not None and not self.label_stream:
            raise ValueError("label_stream_layers needs label_stream=True (labels as a second stream).")
        if self.pooled_text_head and not self.label_stream:
            raise ValueError("pooled_text_head needs label_stream=True (it pools the text the stream encodes once).")
        if self.label_shortlist_size and not self.label_stream:
            raise ValueError("label_shortlist_size needs label_stream=True (labels as a second stream).")
        if self.label_shortlist_size is not None and self.label_shortlist_size < 0:
            raise ValueError(
                f"label_shortlist_size must be >= 1 (labels scored per example at inference) or 0 (no ranker, every "
                f"label), got {self.label_shortlist_size}."
            )
        if not 0.0 <= self.ranker_score_weight < float("inf"):  # NaN fails too
            raise ValueError(f"ranker_score_weight must be a finite number >= 0, got {self.ranker_score_weight}.")
        if self.ranker_score_weight > 0 and not self.label_shortlist_size:
            raise ValueError(
                f"ranker_score_weight={self.ranker_score_weight} needs the label ranker: set label_shortlist_size "
                "(--label_shortlist_size N), or ranker_score_weight=0."
            )
        position = getattr(self, "position_embedding_type", "absolute") or "absolute"
        if self.label_stream and position != "absolute":
            raise ValueError(
                f"label_stream=True needs absolute position embeddings; this encoder uses {position!r}. "
                "Use label_stream=False."
            )

    def _choose_stream(self) -> bool:
        """`label_stream=None`: the stream for a new model whose encoder the stream supports (absolute positions);
        a trained config without the field (written before the stream existed) is a single-sequence model."""
        if self.has_template_tokens:
            return False
        position = getattr(self, "position_embedding_type", "absolute") or "absolute"
        return position == "absolute"

    def _choose_pooled_head(self) -> bool:
        """`pooled_text_head=None`: on for a new label-stream model, at every label count (one group: chosen in
        docs/experiments/NOTEBOOK.md 1f; past one group, trained on every label: 5i); off for a
        single sequence, and for a trained config without the field (written before the head existed)."""
        return self.label_stream and not self.has_template_tokens

    def _choose_shortlist(self) -> int | None:
        """`label_shortlist_size=None`: `MANY_LABELS_SHORTLIST` for a new label-stream model with more labels than
        one group (where scoring every label dominates inference, 5g, and the ranker's fused score won on validation,
        5h); none
        otherwise, and for a trained config (which keeps what it was trained with)."""
        if self.has_template_tokens:
            return None
        return MANY_LABELS_SHORTLIST if self.label_stream and self.num_labels > self.label_group_size else 0

    def _choose_ranker_weight(self) -> float:
        """`ranker_score_weight=None`: `RANKER_SCORE_WEIGHT` for a new model with a label ranker; 0 without one
        and for a trained config without the field (written before the fusion existed)."""
        trained = self.has_template_tokens
        return RANKER_SCORE_WEIGHT if self.label_shortlist_size and not trained else 0.0

    def _single_sequence_budget(self) -> int:
        """Text tokens left beside the whole template in one sequence."""
        return self.max_position_embeddings - self.num_labels * self.tokens_per_label - 3  # [CLS] and two [SEP]

    def check_label_blocks(self) -> None:
        """Refuse `label_blocks` that do not split the labels (positive sizes summing to `num_labels`)."""
        blocks = self.label_blocks
        if blocks is not None and (min(blocks, default=0) < 1 or sum(blocks) != self.num_labels):
            raise ValueError(
                f"label_blocks={blocks} must be positive sizes summing to the {self.num_labels} labels (or None)."
            )

    def text_budget(self) -> int:
        """Text tokens an example keeps: all positions but [CLS]/[SEP] with the label stream, else what fits
        beside the template; raises if the template (or one group of the stream) cannot fit."""
        if self.label_stream:
            group = min(self.label_group_size, self.num_labels) * self.tokens_per_label
            if group > self.max_position_embeddings:
                raise ValueError(
                    f"A label group takes {group} positions (label_group_size={self.label_group_size} x "
                    f"{self.tokens_per_label} tokens per label) but the model has {self.max_position_embeddings}: "
                    f"use label_group_size <= {self.max_position_embeddings // self.tokens_per_label}."
                )
            return self.max_position_embeddings - 2
        template = self.num_labels * self.tokens_per_label
        budget = self._single_sequence_budget()
        if budget < 1:
            room = self.max_position_embeddings - 4
            raise ValueError(
                f"The label template needs {template} positions ({self.num_labels} labels x "
                f"{self.tokens_per_label} tokens per label) plus 3 special tokens and 1 text token, but the "
                f"model has {self.max_position_embeddings} positions: at most {room // self.tokens_per_label} "
                f"labels fit with {self.tokens_per_label} token{'s' * (self.tokens_per_label > 1)} per label. Use "
                + (
                    "fewer prompt tokens (prompt_tokens_before=0 and prompt_tokens_after=0 with "
                    f"mask_mode='per_label' take 1 token per label: up to {room} labels), or "
                    if self.tokens_per_label > 1
                    else ""
                )
                + "label_stream=True (any number of labels)."
            )
        return budget

    def check_order(self, order: list[int]) -> list[int]:
        """`order` as a list of ints if it is a permutation of the label indices; else a ValueError."""
        values = [int(i) for i in order]
        if sorted(values) != list(range(self.num_labels)):
            raise ValueError(f"A label order must be a permutation of 0..{self.num_labels - 1}, got {list(order)}.")
        return values

    def order_ranks(self, order: list[int]) -> list[int]:
        """Each label's position in `order` (checked by `check_order`): `ranks[order[i]] == i`."""
        ranks = [0] * self.num_labels
        for position, label in enumerate(self.check_order(order)):
            ranks[label] = position
        return ranks

    def _check_token_ids(self) -> None:
        if not self.has_template_tokens:
            return
        n = self.num_labels
        if self.no_token_id is None or self.yes_token_id == self.no_token_id:
            raise ValueError("yes_token_id and no_token_id must both be set and differ.")
        if self.mask_mode == "shared" and self.mask_token_id is None:
            raise ValueError("mask_mode='shared' needs mask_token_id (the tokenizer's [MASK] id).")
        if self.mask_mode == "per_label" and len(self.label_mask_token_ids or []) != n:
            raise ValueError(f"mask_mode='per_label' needs {n} label_mask_token_ids, one per label.")
        prompts = self.prompt_token_ids or []
        width = self.prompt_tokens_before + self.prompt_tokens_after
        if len(prompts) != n or any(len(ids) != width for ids in prompts):
            raise ValueError(
                f"prompt_token_ids must hold {n} lists (one per label) of {width} ids each "
                "(prompt_tokens_before + prompt_tokens_after)."
            )

    def template_token_ids(self) -> tuple[list[int], list[int], list[int]]:
        """The all-masked template as ids, each slot's offset in it, and each token's label index.

        Returns:
            (ids, slot_offsets, owners): `ids` has `num_labels * tokens_per_label` entries,
            `slot_offsets` `num_labels`, and `owners[j]` is the label index of template token j.
        """
        if not self.has_template_tokens:
            raise ValueError(
                "This config has no template token ids. Warm-start the model with "
                "BertForLabelMaskClassification.from_encoder(bert_path, label_names=[...])."
            )
        ids, offsets, owners = [], [], []
        before = self.prompt_tokens_before
        for label in range(self.num_labels):
            prompts = self.prompt_token_ids[label]
            slot = self.mask_token_id if self.mask_mode == "shared" else self.label_mask_token_ids[label]
            offsets.append(len(ids) + before)
            ids.extend([*prompts[:before], slot, *prompts[before:]])
            owners.extend([label] * self.tokens_per_label)
        return ids, offsets, owners
