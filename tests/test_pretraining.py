"""`lmmlc-pretrain`: continued MLM pretraining writes an encoder that `lmmlc-train` warm-starts from."""

import json

import pytest
import torch
from safetensors.torch import load_file

from lmmlc.arguments import ModelArguments
from lmmlc.pretraining import run
from lmmlc.training import build_model

from .conftest import slice_data


def pretrain_args(data, output, bert_dir, *extra):
    options = {
        "model_name_or_path": bert_dir,
        "data_dir": data,
        "output_dir": output,
        "max_steps": 3,
        "per_device_train_batch_size": 8,
        "per_device_eval_batch_size": 16,
        "max_seq_length": 32,
        "report_to": "none",
        "save_strategy": "no",
        "seed": 0,
    }
    return [item for key, value in options.items() for item in (f"--{key}", str(value))] + list(extra)


@pytest.mark.slow
def test_pretrained_encoder_warm_starts_the_label_mask_head(tmp_path, shared_data, bert_dir, capsys):
    data = slice_data(shared_data, tmp_path / "data", rows=32)
    first = run(pretrain_args(data, tmp_path / "first", bert_dir, "--learning_rate", "1e-2"))
    assert "perplexity_before" not in first  # bert_dir has no MLM head: a random head's perplexity means nothing
    assert "has no MLM head, so it starts from random weights" in capsys.readouterr().out
    results = run(pretrain_args(data, tmp_path / "mlm", tmp_path / "first", "--learning_rate", "1e-2"))
    assert results["perplexity_after"] < results["perplexity_before"]
    config = json.loads((tmp_path / "mlm" / "config.json").read_text())
    assert config["architectures"] == ["BertForMaskedLM"]
    saved = load_file(tmp_path / "mlm" / "model.safetensors")
    model, _ = build_model(ModelArguments(model_name_or_path=str(tmp_path / "mlm")), ["joy", "anger"])
    head = model.cls.predictions.transform.dense.weight
    assert torch.equal(head, saved["cls.predictions.transform.dense.weight"])  # not a fresh initialisation


def test_whole_word_masking_masks_every_piece_of_a_word():
    import datasets
    from transformers import AutoTokenizer

    from lmmlc.command_options import default_encoder
    from lmmlc.pretraining import mlm_collator, tokenize

    tokenizer = AutoTokenizer.from_pretrained(default_encoder())
    texts = datasets.Dataset.from_dict({"text": ["unbelievably overwhelming counterproductiveness"] * 64})
    encoded = tokenize(texts, tokenizer, 32, offsets=True)
    assert {len(ids) for ids in encoded["input_ids"]} == {32}  # packed: no padding
    collator = mlm_collator(tokenizer, 0.3, whole_word_mask=True, seed=0)
    batch = collator([dict(row) for row in encoded])
    targets = batch["labels"] != -100
    pieces = [tokenizer.convert_ids_to_tokens(row) for row in encoded["input_ids"]]
    continued = torch.tensor([[token.startswith("##") for token in row] for row in pieces])
    assert targets.any() and continued.any()
    # a word piece is a target exactly when the piece before it (same word) is
    assert torch.equal(targets[:, 1:][continued[:, 1:]], targets[:, :-1][continued[:, 1:]])


@pytest.mark.parametrize(
    ("extra", "error"),
    [(["--mlm_probability", "0"], "strictly between"), (["--text_splits", "unlabelled"], "not in the data")],
)
def test_bad_options_fail_before_training(tmp_path, shared_data, bert_dir, extra, error):
    data = slice_data(shared_data, tmp_path / "data", rows=8)
    with pytest.raises(ValueError, match=error):
        run(pretrain_args(data, tmp_path / "mlm", bert_dir, *extra))
    assert not (tmp_path / "mlm").exists()


def test_a_trained_classifier_folder_is_never_replaced(tmp_path, shared_data, bert_dir):
    data = slice_data(shared_data, tmp_path / "data", rows=8)
    classifier = tmp_path / "classifier"
    classifier.mkdir()
    (classifier / "config.json").write_text('{"architectures": ["BertForLabelMaskClassification"]}')
    with pytest.raises(ValueError, match="is not empty"):
        run(pretrain_args(data, classifier, bert_dir))
    with pytest.raises(ValueError, match="no lmmlc run signed"):
        run(pretrain_args(data, classifier, bert_dir, "--overwrite_output_dir"))
    assert "BertForLabelMaskClassification" in (classifier / "config.json").read_text()


def test_pretraining_does_not_pretend_to_resume(tmp_path, shared_data, bert_dir):
    data = slice_data(shared_data, tmp_path / "data", rows=8)
    (tmp_path / "mlm").mkdir()
    (tmp_path / "mlm" / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="lmmlc-pretrain does not resume"):
        run(pretrain_args(data, tmp_path / "mlm", bert_dir, "--resume_from_checkpoint", str(tmp_path / "mlm")))
    assert (tmp_path / "mlm" / "config.json").read_text() == "{}"
