"""`lmmlc.onnx`: an export runs through the same prediction path as the torch model and gives what it gives;
folders that do not match their graph are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lmmlc import BertForLabelMaskClassification, MultiLabelClassificationPipeline
from lmmlc.evaluation import load_trained, predict_dataset
from lmmlc.export import EXPORT_TOLERANCE, export_model
from lmmlc.onnx import OnnxModelForMultiLabelClassification
from lmmlc.prediction import main as predict
from lmmlc.testing import write_tiny_bert
from lmmlc.tokenization import encode_dataset

from .conftest import LABELS, WORDS
from .test_export import MANY, TEXTS, save, spread

LONG = " ".join(["happy joy the a it so i love"] * 40)  # past the model's 64 positions: cut, as torch cuts it


@pytest.fixture(scope="module")
def exported(tmp_path_factory, bert_dir, tokenizer) -> Path:
    """A label-stream model with a ranker and shortlist and tuned thresholds, exported with int8."""
    model = BertForLabelMaskClassification.from_encoder(
        bert_dir, label_names=MANY, label_group_size=4, label_shortlist_size=5, ranker_score_weight=0.2, max_windows=1
    )
    thresholds = [0.1 + 0.06 * i for i in range(len(MANY))]
    folder = save(spread(model), tokenizer, tmp_path_factory.mktemp("onnx") / "model", thresholds)
    export_model(str(folder), quantize="int8")
    return folder


def copy_export(folder: Path, target: Path) -> Path:
    shutil.copytree(folder / "onnx", target)
    return target


def test_predict_dataset_gives_the_torch_probabilities(exported):
    import datasets

    torch_model, tokenizer = load_trained(str(exported))
    onnx_model, onnx_tokenizer = OnnxModelForMultiLabelClassification.from_pretrained(exported)
    data = datasets.Dataset.from_dict({"text": [*TEXTS, LONG] * 5})
    expected = predict_dataset(torch_model, tokenizer, encode_dataset(data, tokenizer, torch_model.config), 4)
    got = predict_dataset(onnx_model, onnx_tokenizer, encode_dataset(data, onnx_tokenizer, onnx_model.config), 4)
    assert np.abs(got - expected).max() <= EXPORT_TOLERANCE
    thresholds = np.asarray(torch_model.config.label_thresholds)
    assert ((got >= thresholds) == (expected >= thresholds)).all()


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_lmmlc_predict_with_an_onnx_backend_writes_what_torch_writes(exported, tmp_path, backend):
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate([*TEXTS, LONG])))
    files = {}
    for name, options in (("torch", []), (backend, ["--backend", backend])):
        files[name] = tmp_path / f"{name}.jsonl"
        paths = ["--input_file", str(texts), "--output_file", str(files[name])]
        predict(["--model_path", str(exported), *paths, *options])
    expected = [json.loads(line) for line in files["torch"].read_text().splitlines()]
    got = [json.loads(line) for line in files[backend].read_text().splitlines()]
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    tolerance = EXPORT_TOLERANCE if backend == "onnx" else 0.15  # a tiny random model: int8 quality is benchmarked
    for row, reference in zip(got, expected, strict=True):
        assert list(row["scores"]) == MANY
        assert [row["scores"][n] for n in MANY] == pytest.approx([reference["scores"][n] for n in MANY], abs=tolerance)
        if backend == "onnx":
            assert row["labels"] == reference["labels"]


def test_the_pipeline_runs_an_export_with_the_model_thresholds(exported):
    onnx_model, tokenizer = OnnxModelForMultiLabelClassification.from_pretrained(exported)
    torch_model, _ = load_trained(str(exported))
    from_onnx = MultiLabelClassificationPipeline(model=onnx_model, tokenizer=tokenizer)
    from_torch = MultiLabelClassificationPipeline(model=torch_model, tokenizer=tokenizer)
    for options in ({}, {"top_k": None}, {"top_k": 3}, {"threshold": 0.3}):
        got, expected = from_onnx([*TEXTS, LONG], **options), from_torch([*TEXTS, LONG], **options)
        for row, reference in zip(got, expected, strict=True):
            assert [r["label"] for r in row] == [r["label"] for r in reference]
            assert [r["score"] for r in row] == pytest.approx([r["score"] for r in reference], abs=EXPORT_TOLERANCE)
    assert any(from_onnx(TEXTS))  # some text gets a label at the tuned thresholds
    with pytest.raises(ValueError, match="empty or blank text"):
        from_onnx(["i love it", "  "])
    with pytest.raises(ValueError, match="need a label-mask model"):
        from_onnx("i love it", strategy="confidence")


def test_rounds_are_refused_on_an_onnx_backend_before_any_text_is_read(exported, tmp_path):
    files = ["--input_file", str(tmp_path / "missing.jsonl"), "--output_file", str(tmp_path / "out.jsonl")]
    with pytest.raises(ValueError, match="--strategy confidence decodes in rounds"):
        predict(["--model_path", str(exported), *files, "--backend", "onnx", "--strategy", "confidence"])
    with pytest.raises(ValueError, match="--backend tensorrt: choose one of torch, onnx, onnx-int8"):
        predict(["--model_path", str(exported), *files, "--backend", "tensorrt"])


def test_a_blank_text_is_refused_by_lmmlc_predict_on_onnx(exported, tmp_path):
    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"text": "i love it"}\n{"text": "   "}\n')
    with pytest.raises(ValueError, match="line 2"):
        predict(["--model_path", str(exported), "--input_file", str(texts), "--output_file", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


def test_labels_that_differ_from_the_graph_are_refused(exported, tmp_path):
    folder = copy_export(exported, tmp_path / "export")
    config = json.loads((folder / "config.json").read_text())
    config["id2label"]["0"], config["id2label"]["1"] = config["id2label"]["1"], config["id2label"]["0"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"labels in .* are not the ones the graph"):
        OnnxModelForMultiLabelClassification.from_pretrained(folder)


def test_thresholds_that_differ_from_the_graph_are_refused(exported, tmp_path):
    folder = copy_export(exported, tmp_path / "export")
    config = json.loads((folder / "config.json").read_text())
    config["label_thresholds"][0] = 0.99
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"thresholds in .* are not the ones exported"):
        OnnxModelForMultiLabelClassification.from_pretrained(folder)


def test_another_tokenizer_is_refused(exported, tmp_path):
    folder = copy_export(exported, tmp_path / "export")
    other = write_tiny_bert(tmp_path / "other", list(reversed(WORDS)), unused=60)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(other / name, folder / name)
    with pytest.raises(ValueError, match=r"tokenizer in .* is not the one"):
        OnnxModelForMultiLabelClassification.from_pretrained(folder)


def test_ids_from_another_tokenizer_are_refused_at_scoring(exported):
    onnx_model, _ = OnnxModelForMultiLabelClassification.from_pretrained(exported)
    with pytest.raises(ValueError, match="not made by the tokenizer saved with this model"):
        onnx_model(input_ids=torch.full((2, 5), 10_000))


def test_inputs_past_the_model_positions_are_refused_with_the_fix(exported):
    onnx_model, tokenizer = OnnxModelForMultiLabelClassification.from_pretrained(exported)
    batch = tokenizer([LONG], return_tensors="pt")  # no truncation: past the 64 positions
    with pytest.raises(ValueError, match="more than the model's 64: tokenize with truncation=True"):
        onnx_model(**batch)


def test_a_folder_without_an_export_or_without_int8_names_the_command(bert_dir, tokenizer, tmp_path, exported):
    with pytest.raises(ValueError, match="run lmmlc-export --model_path"):
        OnnxModelForMultiLabelClassification.from_pretrained(bert_dir)
    folder = copy_export(exported, tmp_path / "export")
    (folder / "model_int8.onnx").unlink()
    with pytest.raises(ValueError, match="lmmlc-export --quantize int8"):
        OnnxModelForMultiLabelClassification.from_pretrained(folder, backend="onnx-int8")


def test_a_graph_without_lmmlc_metadata_is_refused(exported, tmp_path):
    import onnx

    folder = copy_export(exported, tmp_path / "export")
    proto = onnx.load(str(folder / "model.onnx"))
    del proto.metadata_props[:]
    onnx.save(proto, str(folder / "model.onnx"))
    with pytest.raises(ValueError, match="not written by lmmlc-export"):
        OnnxModelForMultiLabelClassification.from_pretrained(folder)


def test_an_onnx_model_is_for_inference_on_cpu_only(exported):
    onnx_model, _ = OnnxModelForMultiLabelClassification.from_pretrained(exported)
    assert onnx_model.eval() is onnx_model and onnx_model.train(False) is onnx_model
    with pytest.raises(ValueError, match="inference only"):
        onnx_model.train()
    with pytest.raises(ValueError, match="CPU provider"):
        onnx_model.to("meta")


def test_labels_come_back_in_the_model_order(exported):
    onnx_model, tokenizer = OnnxModelForMultiLabelClassification.from_pretrained(exported)
    assert onnx_model.config.num_labels == len(MANY) != len(LABELS)
    logits = onnx_model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits
    assert logits.shape == (len(TEXTS), len(MANY)) and logits.dtype == torch.float32
