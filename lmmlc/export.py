"""`lmmlc-export`: a trained model folder -> an ONNX graph of its one-pass scorer (and an int8 copy), checked.

The graph takes the tokenized text (dynamic batch and length) and returns logits `(batch, num_labels)`; thresholds,
label names and decoding stay in Python (`lmmlc.onnx`). Exported with `torch.onnx.export(dynamo=True)`, which
refuses rather than bakes a shape; the export is compared with the torch model before it is kept.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import HfArgumentParser, PreTrainedModel, PreTrainedTokenizerBase

from .configuration_lmmlc import max_text_length
from .evaluation import inference_collator, load_trained
from .onnx import (
    METADATA_KEY,
    ONNX_FILES,
    ONNX_FOLDER,
    OnnxModelForMultiLabelClassification,
    export_metadata,
    graph_inputs,
    require,
)

EXPORT_TOLERANCE = 1e-4
"""Largest difference of probabilities between the fp32 graph and the torch model on the check batch."""

CHECK_TEXTS = ["a short text", "a somewhat longer text that the check batch pads the first one to"]
"""Traced to build the graph (two rows of different lengths, so neither dimension is specialised) and scored by both
backends before the export is kept."""

QUANTIZATIONS = ("int8",)


@dataclass
class ExportArguments:
    model_path: str = field(metadata={"help": "A trained model folder (lmmlc, baseline or stock)."})
    output_dir: str | None = field(default=None, metadata={"help": "Where the export goes (default: MODEL_PATH/onnx)."})
    quantize: str | None = field(
        default=None, metadata={"help": "Also write model_int8.onnx: onnxruntime dynamic int8 (per-channel weights)."}
    )


class OnnxScorer(nn.Module):
    """The traced function: a trained model's one-pass logits `(batch, num_labels)` of tokenized text `(batch, len)`
    (and, for a single-sequence label-mask model, its template's slot positions `(batch, num_labels)`)."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model
        self.names = graph_inputs(model.config)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
        slot_positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        given["slot_positions"] = slot_positions
        return self.model(**{name: given[name] for name in self.names}).logits.float()


def one_pass_note(config) -> str | None:
    """What the export leaves out of a model that decodes in rounds; None for one-pass models."""
    strategy = getattr(config, "decode_strategy", "one_shot")
    if strategy == "one_shot":
        return None
    return (
        f"The model decodes in rounds (decode_strategy={strategy!r}); the graph holds its one-pass scorer (every label "
        "masked, decided at once), so ONNX predictions are its one_shot predictions."
    )


def check_batch(tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel) -> dict[str, torch.Tensor]:
    """`CHECK_TEXTS` as the graph takes them (the template inserted for a single-sequence model); for a model that
    reads whole documents, the second text repeated past its first window."""
    texts = list(CHECK_TEXTS)
    windows = model.config.windows() if hasattr(model.config, "windows") else None
    if windows is not None:
        texts[1] = " ".join([texts[1]] * (1 + windows[0] // 4))
    limit = max_text_length(model.config, tokenizer.model_max_length)
    encoded = [tokenizer(text, truncation=True, max_length=limit) for text in texts]
    batch = inference_collator(tokenizer, model.config)([dict(e) for e in encoded])
    batch.setdefault("token_type_ids", torch.zeros_like(batch["input_ids"]))
    return {name: batch[name] for name in graph_inputs(model.config)}


def trace(model: PreTrainedModel, batch: dict[str, torch.Tensor], path: Path, metadata: dict) -> None:
    """Write the graph of `model`'s one-pass scorer to `path`, dynamic in batch and length, with `metadata`."""
    names = list(batch)
    batch_dim, length_dim = torch.export.Dim("batch"), torch.export.Dim("sequence")
    dims = {name: {0: batch_dim} if name == "slot_positions" else {0: batch_dim, 1: length_dim} for name in names}
    with torch.no_grad():
        program = torch.onnx.export(
            OnnxScorer(model).eval(),
            (),
            kwargs=batch,
            input_names=names,
            output_names=["logits"],
            dynamic_shapes=dims,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    write_with_metadata(program.model_proto, path, metadata)


def write_with_metadata(proto, path: Path, metadata: dict) -> None:
    """Save the ONNX `proto` to `path` with `metadata` as its `lmmlc` entry (other entries kept)."""
    onnx = require("onnx")
    kept = {p.key: p.value for p in proto.metadata_props if p.key != METADATA_KEY}
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, {**kept, METADATA_KEY: json.dumps(metadata)})
    onnx.save(proto, str(path))


def quantize_int8(source: Path, target: Path, metadata: dict) -> None:
    """Dynamic int8 quantization (onnxruntime; per-channel int8 weights, activations quantized at run time) of the
    graph `source` into `target`, its metadata marked int8. onnxruntime's pre-processing first folds the exporter's
    transposes of the weights into constants (a layer's weights serve the text and the label stream, and the exporter
    keeps one copy), without which the quantizer finds no weight to quantize behind most matrix products."""
    onnx = require("onnx")
    quantization = require("onnxruntime.quantization")
    folded = target.with_name(f"{target.stem}-folded.onnx")
    try:
        quantization.shape_inference.quant_pre_process(str(source), str(folded), skip_symbolic_shape=True)
        quantization.quantize_dynamic(
            str(folded), str(target), weight_type=quantization.QuantType.QInt8, per_channel=True
        )
    finally:
        folded.unlink(missing_ok=True)
    write_with_metadata(onnx.load(str(target)), target, {**metadata, "quantization": "int8"})


def check_export(folder: Path, model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> float:
    """The largest difference of probabilities between the fp32 graph in `folder` and `model` on `batch`; refuses
    an export over `EXPORT_TOLERANCE`."""
    onnx_model, _ = OnnxModelForMultiLabelClassification.from_pretrained(folder)
    with torch.no_grad():
        expected = torch.sigmoid(model(**batch).logits.float()).numpy()
    got = torch.sigmoid(onnx_model(**batch).logits).numpy()
    difference = float(np.abs(expected - got).max())
    if not difference <= EXPORT_TOLERANCE:
        raise RuntimeError(
            f"The exported graph's probabilities differ from the torch model's by {difference:.2e} (more than "
            f"{EXPORT_TOLERANCE}) on the check batch: the export is wrong, nothing was written. Please report it."
        )
    return difference


def export_model(model_path: str, output_dir: str | None = None, quantize: str | None = None) -> Path:
    """Export a trained folder's one-pass scorer to `output_dir` (default `model_path/onnx`): `model.onnx`,
    with `quantize="int8"` also `model_int8.onnx`, and the config and tokenizer beside them. Written to a
    temporary folder and moved into place only once the fp32 graph matches the torch model."""
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"--quantize {quantize}: choose one of {', '.join(QUANTIZATIONS)} (or leave it out).")
    target = Path(output_dir) if output_dir else Path(model_path) / ONNX_FOLDER
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} exists and is not empty: give another --output_dir or remove it.")
    for module in ("onnxscript", "onnxruntime"):  # torch.onnx's exporter and the check; before any work
        require(module)
    model, tokenizer = load_trained(model_path)
    note = one_pass_note(model.config)
    if note:
        print(f"Note: {note}")
    batch = check_batch(tokenizer, model)
    with tempfile.TemporaryDirectory(dir=target.parent if target.parent.exists() else None) as scratch:
        work = Path(scratch) / "export"
        work.mkdir()
        metadata = export_metadata(model.config, tokenizer, None)
        trace(model, batch, work / ONNX_FILES["onnx"], metadata)
        model.config.save_pretrained(work)
        tokenizer.save_pretrained(work)
        difference = check_export(work, model, batch)
        if quantize:
            quantize_int8(work / ONNX_FILES["onnx"], work / ONNX_FILES["onnx-int8"], metadata)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rmdir()
        shutil.move(str(work), target)
    print(f"Exported {model_path} to {target} (fp32 graph within {difference:.1e} of torch on the check batch).")
    return target


def main(argv: list[str] | None = None) -> None:
    (args,) = HfArgumentParser(ExportArguments).parse_args_into_dataclasses(argv)
    export_model(args.model_path, args.output_dir, args.quantize)
