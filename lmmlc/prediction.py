"""`lmmlc-predict`: JSON Lines of texts in, JSON Lines of predicted labels and per-label scores out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from transformers import HfArgumentParser, PreTrainedTokenizerBase

from .arguments import check_output_file
from .configuration_lmmlc import LabelMaskConfig, label_names_of, resolve_thresholds
from .data import check_text, read_json_lines
from .evaluation import (
    load_trained,
    predict_dataset,
)
from .evidence_lmmlc import explain
from .tokenization import encode_dataset


@dataclass
class PredictArguments:
    model_path: str = field(metadata={"help": "A trained lmmlc model folder."})
    input_file: str = field(metadata={"help": "JSON Lines with a text field (and optionally id)."})
    output_file: str = field(metadata={"help": "Where to write one JSON line per input line."})
    text_column: str = field(default="text", metadata={"help": "Field holding the text."})
    batch_size: int = field(default=64, metadata={"help": "Texts per forward pass."})
    strategy: str | None = field(
        default=None,
        metadata={"help": "Label-mask decoding: one_shot, confidence, fixed, random (default: config)."},
    )
    evidence: int | None = field(
        default=None,
        metadata={"help": "Also write, for each predicted label, the K text spans that most support it (torch)."},
    )
    backend: str = field(
        default="torch",
        metadata={
            "help": "torch (the model folder), onnx or onnx-int8 (the export of lmmlc-export: --model_path is the "
            "export folder, or a model folder holding onnx/; one-pass scoring at the same thresholds)."
        },
    )


def read_texts(path: Path, text_column: str) -> list[dict]:
    """Rows of `path` with a non-empty text (file and line named otherwise)."""
    rows = read_json_lines(path, {"text": text_column, "id": "id"}, {"text": "--text_column"})
    if not rows:
        raise ValueError(f"{path} holds no texts.")
    for row in rows:
        check_text(row["text"], f"{path}, line {row['_line']}", repr(text_column))
    return rows


def check_distinct_files(input_file: Path, output_file: Path) -> None:
    """Refuse an `--output_file` that is the `--input_file` (writing the predictions would replace the texts)."""
    if output_file.exists() and input_file.exists() and output_file.resolve() == input_file.resolve():
        raise ValueError(
            f"--output_file {output_file} is the --input_file: writing the predictions would replace the texts. "
            "Give another --output_file."
        )


def prediction_records(rows: list[dict], probabilities: np.ndarray, names: list[str], thresholds: list[float]) -> list:
    """Per row: its id (when given), the predicted label names and every label's score."""
    records = []
    for row, scores in zip(rows, probabilities, strict=True):
        record = {} if row["id"] is None else {"id": row["id"]}
        record["labels"] = [name for name, p, t in zip(names, scores, thresholds, strict=True) if p >= t]
        record["scores"] = {name: round(float(p), 6) for name, p in zip(names, scores, strict=True)}
        records.append(record)
    return records


def add_evidence(
    model: Any, tokenizer: PreTrainedTokenizerBase, rows: list[dict], records: list[dict], top: int
) -> None:
    """Give each record `evidence`: per predicted label, its `top` supporting spans (`evidence_lmmlc.explain`)."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("--evidence maps tokens back to the text with a fast tokenizer's offsets; the model has none.")
    index = {name: i for i, name in enumerate(label_names_of(model.config))}
    model.eval()
    for row, record in zip(rows, records, strict=True):
        spans = explain(model, tokenizer, row["text"], [index[name] for name in record["labels"]], top)
        record["evidence"] = dict(zip(record["labels"], spans, strict=True))


BACKENDS = ("torch", "onnx", "onnx-int8")


def check_backend(backend: str, strategy: str | None, evidence: int | None = None) -> None:
    """Refuse an unknown `--backend`, decoding in rounds on an ONNX export (it holds the one-pass scorer), or evidence
    there (it needs gradients) or of fewer than one span."""
    if backend not in BACKENDS:
        raise ValueError(f"--backend {backend}: choose one of {', '.join(BACKENDS)}.")
    if evidence is not None and (evidence < 1 or backend != "torch"):
        raise ValueError(f"--evidence {evidence}: give a positive number of spans, with --backend torch (gradients).")
    if backend != "torch" and strategy not in (None, "one_shot"):
        raise ValueError(
            f"--strategy {strategy} decodes in rounds, and an ONNX export holds the one-pass scorer only: use "
            "--backend torch for rounds, or leave --strategy out."
        )


def load_model(path: str, backend: str) -> tuple[Any, PreTrainedTokenizerBase]:
    """The model of `--model_path` on `--backend` and its tokenizer: the torch model (`load_trained`), or its ONNX
    export run by onnxruntime (`lmmlc.onnx`)."""
    if backend == "torch":
        return load_trained(path)
    from .onnx import OnnxModelForMultiLabelClassification

    return OnnxModelForMultiLabelClassification.from_pretrained(path, backend)


def main(argv: list[str] | None = None) -> None:
    """Predict with the thresholds stored in the model config."""
    (args,) = HfArgumentParser(PredictArguments).parse_args_into_dataclasses(argv)
    check_output_file(args.output_file)
    check_distinct_files(Path(args.input_file), Path(args.output_file))
    check_backend(args.backend, args.strategy, args.evidence)
    rows = read_texts(Path(args.input_file), args.text_column)  # bad input fails before the model loads
    model, tokenizer = load_model(args.model_path, args.backend)
    if args.strategy is not None and not isinstance(model.config, LabelMaskConfig):
        raise ValueError(
            f"--strategy {args.strategy}: {args.model_path} is not a label-mask model, so it scores every label in one "
            "pass; leave --strategy out."
        )
    dataset = encode_dataset(datasets.Dataset.from_dict({"text": [r["text"] for r in rows]}), tokenizer, model.config)
    options = {} if args.strategy is None else {"strategy": args.strategy}
    probabilities = predict_dataset(model, tokenizer, dataset, args.batch_size, **options)
    config = model.config
    records = prediction_records(rows, probabilities, label_names_of(config), resolve_thresholds(config))
    if args.evidence is not None:
        add_evidence(model, tokenizer, rows, records, args.evidence)
    Path(args.output_file).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
