import pytest

from lmmlc.baseline_hint import MANY_LABELS_HINT, ONE_GROUP_HINT, SMALL_TRAIN_SET, baseline_hint
from lmmlc.configuration_lmmlc import LabelMaskConfig, MultiLabelBertConfig


def test_the_hint_names_the_regime_where_the_baseline_measured_better():
    few = LabelMaskConfig(label_names=["a", "b"])
    many = LabelMaskConfig(label_names=[f"l{i}" for i in range(65)])  # past one group of 64
    assert baseline_hint(few, SMALL_TRAIN_SET) == ONE_GROUP_HINT  # subset accuracy on small training sets (5i)
    assert baseline_hint(few, SMALL_TRAIN_SET + 1) is None  # GoEmotions' full set: level or ahead (1j)
    assert baseline_hint(many, 10**6).startswith(MANY_LABELS_HINT.split("{")[0])  # training speed (5i)
    assert baseline_hint(MultiLabelBertConfig(label_names=["a"]), 10) is None  # the baseline itself
    assert baseline_hint(LabelMaskConfig(label_names=["a", "b"], label_stream=False), 10) is None


@pytest.mark.slow
def test_lmmlc_train_prints_the_hint_and_the_baseline_does_not(tmp_path, capsys):
    import json

    from lmmlc.training import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text("a\nb\n")
    (data / "train.jsonl").write_text("".join(json.dumps({"text": f"t {i}", "labels": ["a"]}) + "\n" for i in range(4)))
    options = ["--data_dir", str(data), "--max_steps", "1", "--report_to", "none", "--save_strategy", "no"]
    main([*options, "--output_dir", str(tmp_path / "lmmlc")])
    assert ONE_GROUP_HINT in capsys.readouterr().out
    main([*options, "--output_dir", str(tmp_path / "baseline"), "--model_type", "baseline"])
    assert "Hint:" not in capsys.readouterr().out
