"""`lmmlc.arguments`: the model options of lmmlc-train come from the configs, with their defaults."""

import dataclasses
import inspect

import pytest

from lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification, LabelMaskConfig, MultiLabelBertConfig
from lmmlc.arguments import ModelArguments, check_model_path, check_output_file
from lmmlc.training import parse_args

RESOLVED = ("label_stream", "pooled_text_head", "label_shortlist_size", "ranker_score_weight", "max_windows")
"""Options whose None default the config resolves (stored resolved)."""


def test_every_config_option_is_a_flag_with_the_configs_default_and_help():
    fields = {f.name: f for f in dataclasses.fields(ModelArguments)}
    for config_class in (MultiLabelBertConfig, LabelMaskConfig):
        for name, text in config_class.option_help.items():
            owner = next(c for c in config_class.__mro__ if name in inspect.signature(c.__init__).parameters)
            assert fields[name].default == inspect.signature(owner.__init__).parameters[name].default, name
            assert fields[name].metadata["help"] == text
            resolved = name in RESOLVED
            assert getattr(config_class(), name) == fields[name].default or resolved
    assert set(fields) == {"model_name_or_path", "model_type", "tokenizer_name", *LabelMaskConfig.option_help}


def test_flags_reach_the_config_options(tmp_path):
    model_args = parse_args(["--output_dir", str(tmp_path), "--pooling", "cls", "--decode_strategy", "confidence"])[0]
    assert model_args.pooling == "cls" and model_args.decode_strategy == "confidence"
    assert parse_args(["--output_dir", str(tmp_path)])[0].pooling == MultiLabelBertConfig().pooling == "mean"


def test_from_pretrained_with_label_names_still_warm_starts_but_says_from_encoder(bert_dir):
    for model_class in (BertForLabelMaskClassification, BertForMultiLabelClassification):
        with pytest.warns(FutureWarning, match=rf"use {model_class.__name__}\.from_encoder"):
            old = model_class.from_pretrained(bert_dir, label_names=["a", "b"])
        new = model_class.from_encoder(bert_dir, label_names=["a", "b"])
        assert type(old) is type(new) and old.config.to_dict() == new.config.to_dict()


def test_model_arguments_pickle():
    import pickle

    assert pickle.loads(pickle.dumps(ModelArguments(pooling="cls"))).pooling == "cls"


def test_a_missing_folder_under_an_existing_one_is_local_not_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs").mkdir()
    with pytest.raises(FileNotFoundError, match=r"outputs/run: no such folder \(./outputs has no run\)"):
        check_model_path("outputs/run", "--model_path")


@pytest.mark.parametrize("path", ["./absent", "/no/such/folder", "a/b/c"])
def test_check_model_path_names_a_missing_folder(path):
    with pytest.raises(FileNotFoundError, match=f"--model_path {path}: no such folder"):
        check_model_path(path, "--model_path")
    check_model_path("owner/name", "--model_path")  # a Hub id is left to from_pretrained
    check_model_path(None, "--model_path")


@pytest.mark.parametrize("option", ["learning_rate", "head_learning_rate"])
@pytest.mark.parametrize("rate", ["0", "-1e-3"])
def test_learning_rates_must_be_positive(option, rate, tmp_path):
    with pytest.raises(ValueError, match=f"--{option} {float(rate)}: give a rate > 0"):
        parse_args(["--output_dir", str(tmp_path), f"--{option}={rate}"])


@pytest.mark.parametrize(
    ("model_type", "rate", "head_rate"), [("lmmlc", 3e-4, None), ("baseline", 1e-4, 3e-2), ("stock", 1e-4, 3e-2)]
)
def test_learning_rates_default_by_model_type_and_options_win(model_type, rate, head_rate, tmp_path):
    """The measured defaults (docs/experiments/NOTEBOOK.md 1b, 1c); options given always win."""
    args = parse_args(["--output_dir", str(tmp_path), "--model_type", model_type])[3]
    assert (args.learning_rate, args.head_learning_rate) == (rate, head_rate)
    given = ["--learning_rate", "2e-5", "--head_learning_rate", "1e-3"]
    args = parse_args(["--output_dir", str(tmp_path), "--model_type", model_type, *given])[3]
    assert (args.learning_rate, args.head_learning_rate) == (2e-5, 1e-3)


def test_check_output_file_refuses_a_missing_folder_and_a_folder(tmp_path):
    check_output_file(str(tmp_path / "out.json"))  # its folder exists
    with pytest.raises(FileNotFoundError, match=r"absent.*create it first"):
        check_output_file(str(tmp_path / "absent" / "out.json"), "--output_file")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        check_output_file(str(tmp_path))
