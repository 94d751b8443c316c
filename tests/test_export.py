"""`lmmlc-export`: every kind of trained model exports, the graph matches torch, bad input is refused up front."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification
from lmmlc.export import EXPORT_TOLERANCE, export_model, main
from lmmlc.onnx import OnnxModelForMultiLabelClassification, read_metadata

from .conftest import LABELS, PAPER

TEXTS = ["i love it", "so angry about this thing " * 12, "sad", "happy joy the a it so i love"]
MANY = [f"tag{i}" for i in range(13)]


def spread(model: torch.nn.Module, seed: int = 1) -> torch.nn.Module:
    """Perturb every weight so the probabilities spread over (0, 1) (a new model scores 0.5 everywhere)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.3)
    return model.eval()


def save(model, tokenizer, folder: Path, thresholds: list[float] | None = None) -> Path:
    """`model` as lmmlc-train leaves it: weights, tokenizer, tuned thresholds (one per label)."""
    if thresholds is not None:
        model.config.threshold, model.config.label_thresholds = 0.5, thresholds
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def stock_model(bert_dir: Path) -> BertForSequenceClassification:
    config = BertConfig.from_pretrained(bert_dir, num_labels=len(LABELS), problem_type="multi_label_classification")
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {name: i for i, name in enumerate(LABELS)}
    torch.manual_seed(0)
    return BertForSequenceClassification.from_pretrained(bert_dir, config=config)


def with_added_labels(bert_dir: Path) -> BertForLabelMaskClassification:
    """A label-stream model with two labels added by name (a block of their own; free [unusedN] slots, so the
    tokenizer the tests save with it stays the model's)."""
    model = spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS))
    model.add_labels(["happy", "sad"], AutoTokenizer.from_pretrained(bert_dir))
    return model


MODELS = {
    "label stream (default)": lambda d: BertForLabelMaskClassification.from_encoder(d, label_names=LABELS),
    "label stream, ranker and shortlist": lambda d: BertForLabelMaskClassification.from_encoder(
        d, label_names=MANY, label_group_size=4, label_shortlist_size=5, ranker_score_weight=0.2
    ),
    "single sequence": lambda d: BertForLabelMaskClassification.from_encoder(d, label_names=LABELS, label_stream=False),
    "the paper's template": lambda d: BertForLabelMaskClassification.from_encoder(
        d, label_names=LABELS, label_stream=False, **PAPER
    ),
    "baseline, mean pooling": lambda d: BertForMultiLabelClassification.from_encoder(d, label_names=LABELS),
    "baseline, layer-weighted pooling": lambda d: BertForMultiLabelClassification.from_encoder(
        d, label_names=LABELS, pooling="layer_weighted"
    ),
    "stock": stock_model,
    "label stream with labels added later": lambda d: with_added_labels(d),
}


def torch_probabilities(folder: Path, texts: list[str]) -> np.ndarray:
    from lmmlc.evaluation import load_trained

    model, tokenizer = load_trained(str(folder))
    batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return torch.sigmoid(model(**batch).logits.float()).numpy()


@pytest.mark.parametrize("kind", MODELS)
def test_every_model_kind_exports_and_matches_torch_on_other_shapes(kind, bert_dir, tokenizer, tmp_path):
    folder = save(spread(MODELS[kind](bert_dir)), tokenizer, tmp_path / "model")
    export = export_model(str(folder))
    assert export == folder / "onnx"
    assert {"model.onnx", "config.json", "tokenizer.json"} <= {p.name for p in export.iterdir()}
    assert not (export / "model_int8.onnx").exists()
    onnx_model, onnx_tokenizer = OnnxModelForMultiLabelClassification.from_pretrained(folder)
    for texts in (TEXTS, TEXTS[:1], TEXTS * 3):  # batch sizes and lengths the trace never saw
        batch = onnx_tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        got = torch.sigmoid(onnx_model(**batch).logits).numpy()
        expected = torch_probabilities(folder, texts)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= EXPORT_TOLERANCE
        assert len(texts) == 1 or expected.std() > 0.01  # the comparison has something to compare


def test_the_graph_carries_labels_thresholds_and_inputs(bert_dir, tokenizer, tmp_path):
    model = spread(MODELS["single sequence"](bert_dir))
    folder = save(model, tokenizer, tmp_path / "model", thresholds=[0.2, 0.4, 0.6, 0.8])
    main(["--model_path", str(folder), "--output_dir", str(tmp_path / "export")])
    onnx_model, _ = OnnxModelForMultiLabelClassification.from_pretrained(tmp_path / "export")
    metadata = onnx_model.metadata
    assert metadata["label_names"] == LABELS
    assert metadata["thresholds"] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert metadata["inputs"] == ["input_ids", "attention_mask", "token_type_ids", "slot_positions"]
    assert metadata["quantization"] is None and metadata["scorer"] == "one_pass"


def test_int8_is_written_beside_fp32_and_close_to_it(bert_dir, tokenizer, tmp_path):
    folder = save(spread(MODELS["label stream (default)"](bert_dir)), tokenizer, tmp_path / "model")
    export = export_model(str(folder), quantize="int8")
    fp32, onnx_tokenizer = OnnxModelForMultiLabelClassification.from_pretrained(export)
    int8, _ = OnnxModelForMultiLabelClassification.from_pretrained(export, backend="onnx-int8")
    assert int8.metadata["quantization"] == "int8"
    assert (export / "model_int8.onnx").stat().st_size < (export / "model.onnx").stat().st_size
    batch = onnx_tokenizer(TEXTS, padding=True, return_tensors="pt")
    difference = (torch.sigmoid(fp32(**batch).logits) - torch.sigmoid(int8(**batch).logits)).abs().max()
    assert 0 < float(difference) < 0.1  # quantized (not a copy), and still the same model


def test_a_model_that_decodes_in_rounds_exports_its_one_pass_scorer_and_says_so(bert_dir, tokenizer, tmp_path, capsys):
    model = BertForLabelMaskClassification.from_encoder(
        bert_dir, label_names=LABELS, label_stream=False, decode_strategy="confidence"
    )
    folder = save(spread(model), tokenizer, tmp_path / "model")
    export_model(str(folder))
    assert "graph holds its one-pass scorer" in capsys.readouterr().out
    onnx_model, onnx_tokenizer = OnnxModelForMultiLabelClassification.from_pretrained(folder)
    assert onnx_model.metadata["decode_strategy"] == "confidence"
    batch = onnx_tokenizer(TEXTS, padding=True, return_tensors="pt")
    torch_model = BertForLabelMaskClassification.from_pretrained(folder).eval()
    one_shot = torch_model.decode(**batch, strategy="one_shot").probs
    assert torch.sigmoid(onnx_model(**batch).logits) == pytest.approx(one_shot, abs=EXPORT_TOLERANCE)


def test_a_folder_that_is_not_a_trained_model_is_refused_before_any_work(bert_dir, tmp_path):
    with pytest.raises(ValueError, match=r"not a multi-label model|does not hold every trained weight"):
        export_model(str(bert_dir), output_dir=str(tmp_path / "export"))
    with pytest.raises(FileNotFoundError, match="--model_path"):
        export_model(str(tmp_path / "missing"), output_dir=str(tmp_path / "export"))
    assert not (tmp_path / "export").exists()


def test_bad_options_and_a_used_output_folder_are_refused(bert_dir, tokenizer, tmp_path):
    folder = save(spread(MODELS["baseline, mean pooling"](bert_dir)), tokenizer, tmp_path / "model")
    with pytest.raises(ValueError, match="--quantize int4: choose one of int8"):
        export_model(str(folder), quantize="int4")
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="exists and is not empty"):
        export_model(str(folder), output_dir=str(used))
    assert [p.name for p in used.iterdir()] == ["notes.txt"]


def test_a_wrong_export_is_refused_and_nothing_is_written(bert_dir, tokenizer, tmp_path, monkeypatch):
    import lmmlc.export as export

    folder = save(spread(MODELS["label stream (default)"](bert_dir)), tokenizer, tmp_path / "model")
    original = export.OnnxScorer.forward

    def shifted(self, input_ids, attention_mask, token_type_ids, slot_positions=None):
        return original(self, input_ids, attention_mask, token_type_ids, slot_positions) + 0.01

    monkeypatch.setattr(export.OnnxScorer, "forward", shifted)
    with pytest.raises(RuntimeError, match="differ from the torch model's"):
        export_model(str(folder))
    assert not (folder / "onnx").exists()
    assert json.loads((folder / "config.json").read_text())["model_type"] == "lmmlc"


def test_metadata_survives_in_the_written_graph(bert_dir, tokenizer, tmp_path):
    import onnxruntime

    folder = save(spread(MODELS["stock"](bert_dir)), tokenizer, tmp_path / "model")
    export = export_model(str(folder), quantize="int8")
    for name, quantization in (("model.onnx", None), ("model_int8.onnx", "int8")):
        session = onnxruntime.InferenceSession(str(export / name), providers=["CPUExecutionProvider"])
        metadata = read_metadata(session, export / name)
        assert metadata["label_names"] == LABELS and metadata["quantization"] == quantization
        assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask", "token_type_ids"]
        assert [str(d) for d in session.get_inputs()[0].shape] == ["batch", "sequence"]


def test_the_tokenizer_travels_unchanged(bert_dir, tokenizer, tmp_path):
    folder = save(spread(MODELS["label stream (default)"](bert_dir)), tokenizer, tmp_path / "model")
    export = export_model(str(folder))
    assert AutoTokenizer.from_pretrained(export).get_vocab() == tokenizer.get_vocab()
