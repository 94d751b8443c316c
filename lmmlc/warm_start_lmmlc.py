"""Starting a new lmmlc model on a plain BERT encoder (`from_encoder`): the config from the encoder's, template
tokens from the vocabulary's `[unusedN]` slots (or added), their embeddings initialised from the label names.
Travels to the Hub with `modeling_lmmlc.py`: imports only torch, transformers and the other travelling files."""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from .configuration_lmmlc import LabelMaskConfig, MultiLabelBertConfig

HUB_KWARGS = ("cache_dir", "force_download", "local_files_only", "proxies", "revision", "subfolder", "token")


def warn_warm_start(cls: type) -> None:
    warnings.warn(
        f"{cls.__name__}.from_pretrained(path, label_names=...) to start a new model is deprecated; use "
        f"{cls.__name__}.from_encoder(path, label_names=...). from_pretrained loads trained checkpoints.",
        FutureWarning,
        stacklevel=3,
    )


def config_parameters(config_class: type) -> set[str]:
    """Names of the `__init__` parameters of `config_class` and its bases (config options)."""
    names = {name for klass in config_class.__mro__ for name in inspect.signature(klass.__init__).parameters}
    return names - {"self", "args", "kwargs"}


def split_config_kwargs(config_class: type, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate config options from loading options."""
    params = config_parameters(config_class)
    config_kwargs = {k: v for k, v in kwargs.items() if k in params}
    return config_kwargs, {k: v for k, v in kwargs.items() if k not in params}


def config_from(
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
def _init_template_embeddings(model: nn.Module, tokenizer: PreTrainedTokenizerBase) -> None:
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
def grow_token_types(model: nn.Module, rows: int, kept: int) -> None:
    """Give the encoder `rows` token types: its first `kept` kept, each other one starting from the second segment's
    embedding (a label's own type with `token_type_strategy="per_label"`)."""
    old = model.bert.embeddings.token_type_embeddings
    new = nn.Embedding(rows, old.embedding_dim).to(device=old.weight.device, dtype=old.weight.dtype)
    new.weight[:kept] = old.weight[:kept]
    new.weight[kept:] = old.weight[min(1, old.num_embeddings - 1)]
    model.bert.embeddings.token_type_embeddings = new
    model.config.type_vocab_size = rows


def grow_vocabulary(model: nn.Module, size: int) -> None:
    """Grow the word embeddings and the cloze head's output bias to `size` tokens (new rows: the bias 0)."""
    if size <= model.config.vocab_size:
        return
    model.resize_token_embeddings(size, mean_resizing=False)
    bias = model.cls.predictions.bias
    model.cls.predictions.bias = nn.Parameter(F.pad(bias.data, (0, size - bias.numel())))


def warm_start(
    cls: type,
    path: str,
    label_names: list[str],
    tokenizer: PreTrainedTokenizerBase | None,
    model_args: tuple,
    kwargs: dict[str, Any],
    load: Callable[..., nn.Module],
) -> nn.Module:
    """A new label-mask model of `cls` on the encoder at `path`; `load` is the plain `from_pretrained` of
    `cls`'s base class (`load(path, *model_args, config=..., **loading_options)`)."""
    config_kwargs, load_kwargs = split_config_kwargs(cls.config_class, kwargs)
    config = config_from(cls.config_class, path, label_names, config_kwargs, load_kwargs)
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(path, **{k: load_kwargs[k] for k in HUB_KWARGS if k in load_kwargs})
    vocab_size = _assign_template_tokens(config, tokenizer)
    config._check_token_ids()
    model = load(path, *model_args, config=config, **load_kwargs)
    grow_vocabulary(model, vocab_size)
    if config.token_type_strategy == "per_label":
        grow_token_types(model, config.num_labels + 1, kept=1)  # type 0: the text; one type per label
    _init_template_embeddings(model, tokenizer)
    return model
