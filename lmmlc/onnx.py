"""Running an ONNX export of a trained model (`lmmlc-export`) with onnxruntime, as a drop-in for the torch model.

`OnnxModelForMultiLabelClassification` looks to lmmlc's prediction path (`predict_dataset`, `lmmlc-predict
--backend onnx`) and to `MultiLabelClassificationPipeline` like the torch model: it has the model's `config`, takes
the same inputs and returns `MultiLabelOutput` with logits `(batch, num_labels)`. The graph holds the one-pass scorer
(the label stream, pooled text head, ranker and shortlist of a label-mask model; the pooled baseline; the stock
head); thresholds and label names stay in Python, read from the folder's config, which must agree with the ones
`lmmlc-export` wrote into the graph's metadata.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import AutoConfig, AutoTokenizer, PretrainedConfig, PreTrainedTokenizerBase

from .configuration_lmmlc import (
    LabelMaskConfig,
    check_tokenizer,
    label_names_of,
    max_text_length,
    resolve_thresholds,
)
from .modeling_lmmlc import MultiLabelOutput, check_input_ids
from .template_lmmlc import template_inputs

ONNX_FOLDER = "onnx"
"""Where `lmmlc-export` writes by default, inside the model folder (optimum's convention)."""

ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model_int8.onnx"}
"""The graph file of each ONNX backend."""

DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]
"""onnxruntime graph rewrites left off: its fused residual + layer norm ran slower on a 2-core CPU than the ops it
replaces (GoEmotions default model, int8, batch 32: 3.1x torch's examples/s without it, 2.3x with it;
docs/experiments/NOTEBOOK.md §8)."""

METADATA_KEY = "lmmlc"
"""The graph's metadata entry `lmmlc-export` writes: a JSON object (see `export_metadata`)."""

FORMAT_VERSION = 1


def require(module: str) -> Any:
    """Import `module` (onnx, onnxscript, onnxruntime: the `onnx` extra), or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"ONNX export and serving need {module}: pip install 'lmmlc[onnx]' ({error}).") from error


def vocabulary_digest(tokenizer: PreTrainedTokenizerBase) -> str:
    """A SHA-256 of the tokenizer's vocabulary (token -> id, sorted): equal exactly when the ids are."""
    items = sorted(tokenizer.get_vocab().items())
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode("utf-8")).hexdigest()


def graph_inputs(config: PretrainedConfig) -> list[str]:
    """The graph's inputs: the tokenized text, and the template's slot positions for a single-sequence label-mask
    model (its template is inserted in Python, `insert_label_template`, so the graph's shapes stay dynamic)."""
    names = ["input_ids", "attention_mask", "token_type_ids"]
    if isinstance(config, LabelMaskConfig) and not config.label_stream:
        names.append("slot_positions")
    return names


def export_metadata(config: PretrainedConfig, tokenizer: PreTrainedTokenizerBase, quantization: str | None) -> dict:
    """What the graph carries besides its weights: label names and thresholds (as the config holds them), the
    inputs, the tokenizer's vocabulary digest, the model's decoder, and how it was quantized."""
    return {
        "format": FORMAT_VERSION,
        "model_type": config.model_type,
        "label_names": label_names_of(config),
        "thresholds": resolve_thresholds(config),
        "inputs": graph_inputs(config),
        "output": "logits",
        "scorer": "one_pass",
        "decode_strategy": getattr(config, "decode_strategy", "one_shot"),
        "vocabulary_sha256": vocabulary_digest(tokenizer),
        "quantization": quantization,
    }


def read_metadata(session: Any, path: Path) -> dict:
    """The `lmmlc` metadata of the graph `path` an onnxruntime `session` runs; refused when absent."""
    entries = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in entries:
        raise ValueError(f"{path} has no lmmlc metadata: it was not written by lmmlc-export. Export the model with it.")
    return json.loads(entries[METADATA_KEY])


def check_export_matches(metadata: dict, config: PretrainedConfig, tokenizer: PreTrainedTokenizerBase, path: Path):
    """Refuse a folder whose config or tokenizer is not the one the graph was exported with."""
    fix = "re-export the model with lmmlc-export into an empty folder"
    if metadata.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path} uses lmmlc ONNX format {metadata.get('format')}, this lmmlc reads {FORMAT_VERSION}.")
    if metadata["label_names"] != label_names_of(config):
        raise ValueError(f"The labels in {path.parent}/config.json are not the ones the graph {path} scores: {fix}.")
    if metadata["thresholds"] != resolve_thresholds(config):  # JSON keeps floats exact
        raise ValueError(f"The thresholds in {path.parent}/config.json are not the ones exported with {path}: {fix}.")
    if metadata["vocabulary_sha256"] != vocabulary_digest(tokenizer):
        raise ValueError(f"The tokenizer in {path.parent} is not the one {path} was exported with: {fix}.")


def onnx_folder(path: str | Path) -> Path:
    """The export folder of `path`: `path` itself when it holds a graph, else its `onnx/` subfolder."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder: give the folder lmmlc-export wrote (a model folder's onnx/).")
    if any((path / name).exists() for name in ONNX_FILES.values()):
        return path
    if (path / ONNX_FOLDER).is_dir():
        return path / ONNX_FOLDER
    raise ValueError(f"{path} holds no ONNX export (model.onnx): run lmmlc-export --model_path {path} first.")


def check_length(config: PretrainedConfig, input_ids: torch.Tensor) -> None:
    """Refuse a text `(batch, seq_len)` longer than the model's positions (a single-sequence label-mask model cuts
    its text itself, `insert_label_template`): the graph would fail in onnxruntime's gather, naming no cause."""
    single_sequence = isinstance(config, LabelMaskConfig) and not config.label_stream
    most = max_text_length(config, input_ids.shape[1] + 1)
    if not single_sequence and input_ids.shape[1] > most:
        raise ValueError(
            f"The inputs hold {input_ids.shape[1]} tokens, more than the model's {most}: tokenize with "
            "truncation=True, max_length=lmmlc.max_text_length(config, tokenizer.model_max_length) (lmmlc-predict "
            "and the pipeline do)."
        )


class OnnxModelForMultiLabelClassification(nn.Module):
    """An `lmmlc-export` graph run by onnxruntime, with the interface of the torch model that prediction uses (an
    `nn.Module` without parameters, so that transformers' pipelines take it for a torch model).

    Attributes:
        config: the exported model's config (labels, thresholds, template).
        metadata: the graph's `lmmlc` metadata (`export_metadata`).
    """

    device = torch.device("cpu")

    def __init__(self, session: Any, config: PretrainedConfig, metadata: dict, name_or_path: str) -> None:
        super().__init__()
        self.session, self.config, self.metadata, self.name_or_path = session, config, metadata, name_or_path
        self.inputs = metadata["inputs"]
        self.training = False

    @classmethod
    def from_pretrained(
        cls, path: str | Path, backend: str = "onnx", threads: int | None = None
    ) -> tuple[OnnxModelForMultiLabelClassification, PreTrainedTokenizerBase]:
        """The model and tokenizer of an export folder (or a model folder holding `onnx/`); `backend` "onnx" runs
        `model.onnx`, "onnx-int8" `model_int8.onnx`; `threads`: onnxruntime's intra-op threads (default: all)."""
        onnxruntime = require("onnxruntime")
        if backend not in ONNX_FILES:
            raise ValueError(f"backend={backend!r}: choose one of {', '.join(ONNX_FILES)}.")
        folder = onnx_folder(path)
        graph = folder / ONNX_FILES[backend]
        if not graph.exists():
            flag = " --quantize int8" if backend == "onnx-int8" else ""
            raise ValueError(f"{folder} has no {graph.name}: run lmmlc-export{flag} on the model first.")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"], disabled_optimizers=DISABLED_OPTIMIZERS
        )
        metadata = read_metadata(session, graph)
        config = AutoConfig.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        check_tokenizer(tokenizer, config, str(folder))
        check_export_matches(metadata, config, tokenizer, graph)
        return cls(session, config, metadata, str(folder)), tokenizer

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        slot_positions: torch.Tensor | None = None,
        **unused: Any,
    ) -> MultiLabelOutput:
        """Logits `(batch, num_labels)` of a tokenized batch `(batch, seq_len)`, as the torch model's forward
        (a single-sequence label-mask model gets its all-masked template inserted here when not given)."""
        if unused:
            raise ValueError(f"{sorted(unused)}: the ONNX export scores tokenized text only (one pass).")
        check_input_ids(self.config, input_ids)
        check_length(self.config, input_ids)
        if "slot_positions" in self.inputs:
            inputs = template_inputs(self.config, input_ids, attention_mask, token_type_ids, slot_positions)
            input_ids, attention_mask, token_type_ids, slot_positions = inputs
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        given["slot_positions"] = slot_positions
        feed = {name: given[name].detach().cpu().numpy().astype(np.int64) for name in self.inputs}
        (logits,) = self.session.run(["logits"], feed)
        return MultiLabelOutput(logits=torch.from_numpy(logits))

    def eval(self) -> OnnxModelForMultiLabelClassification:
        return self

    def train(self, mode: bool = True) -> OnnxModelForMultiLabelClassification:
        if mode:
            raise ValueError("An ONNX export is for inference only: train the torch model.")
        return self

    def to(self, device: Any) -> OnnxModelForMultiLabelClassification:
        if torch.device(device).type != "cpu":
            raise ValueError(f"This ONNX model runs on onnxruntime's CPU provider, not {device}.")
        return self
