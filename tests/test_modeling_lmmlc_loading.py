"""Loading trained checkpoints: incomplete, corrupt, newer-schema or mismatched ones fail loudly."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

from lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification

from .conftest import LABELS


@pytest.fixture
def saved(make_model, tmp_path):
    folder = tmp_path / "model"
    make_model().save_pretrained(folder)
    return folder


def test_a_complete_checkpoint_loads_identically(saved):
    model = BertForLabelMaskClassification.from_pretrained(saved)
    weights = load_file(saved / "model.safetensors")
    assert all(torch.equal(model.state_dict()[k], v) for k, v in weights.items())
    assert json.loads((saved / "config.json").read_text())["lmmlc_schema_version"] == 1


@pytest.mark.parametrize("loader", [BertForLabelMaskClassification, AutoModelForSequenceClassification])
def test_missing_head_weights_are_refused_not_initialised(saved, loader):
    weights = load_file(saved / "model.safetensors")
    save_file({k: v for k, v in weights.items() if not k.startswith("cls.")}, saved / "model.safetensors")
    with pytest.raises(ValueError, match=r"does not hold every trained weight.*cls\.predictions"):
        loader.from_pretrained(saved)


def test_missing_baseline_classifier_is_refused(bert_dir, tmp_path):
    BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS).save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    save_file({k: v for k, v in weights.items() if not k.startswith("classifier.")}, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=r"classifier\.weight"):
        BertForMultiLabelClassification.from_pretrained(tmp_path)


def test_truncated_weights_file_fails(saved):
    data = (saved / "model.safetensors").read_bytes()
    (saved / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        BertForLabelMaskClassification.from_pretrained(saved)


def test_missing_weights_file_fails(saved):
    (saved / "model.safetensors").unlink()
    with pytest.raises(OSError, match=r"model\.safetensors"):
        BertForLabelMaskClassification.from_pretrained(saved)


def test_config_from_a_newer_schema_is_refused(saved):
    config = json.loads((saved / "config.json").read_text())
    (saved / "config.json").write_text(json.dumps({**config, "lmmlc_schema_version": 99}))
    with pytest.raises(ValueError, match=r"newer lmmlc \(config schema 99; this code reads up to 1"):
        BertForLabelMaskClassification.from_pretrained(saved)


def test_a_plain_bert_without_label_names_is_refused(bert_dir):
    with pytest.raises(ValueError, match="pass label_names"):
        BertForLabelMaskClassification.from_pretrained(bert_dir)


def test_labels_that_disagree_with_the_checkpoint_are_refused(saved):
    with pytest.raises(ValueError, match="already a trained lmmlc model"):
        BertForLabelMaskClassification.from_encoder(saved, label_names=["joy", "sadness"])


class Trap:
    """Unpickling this writes a marker file: proof that a pickle was executed."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_weights_are_never_loaded(saved, tmp_path):
    marker = tmp_path / "pickle-was-executed"
    torch.save({"weights": Trap(marker)}, saved / "pytorch_model.bin")
    (saved / "model.safetensors").unlink()
    for loader in (BertForLabelMaskClassification, AutoModelForSequenceClassification):
        with pytest.raises(OSError, match=r"model\.safetensors"):
            loader.from_pretrained(saved)
    assert not marker.exists()
