"""`lmmlc-add-labels` and few-shot training of new labels: only their parameters move; bad input is refused first."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoTokenizer, TrainingArguments

import lmmlc.add_labels as command
from lmmlc import BertForLabelMaskClassification
from lmmlc.add_labels import main, train_new_labels
from lmmlc.new_labels_lmmlc import new_label_parameters

from .conftest import LABELS
from .test_export import MODELS, TEXTS, save, spread
from .test_new_labels_lmmlc import NEW, scores, stream_model

FEW = [("happy joy i love it", ["happy"]), ("so angry", []), ("cs math it", ["cs.math"]), ("happy happy", ["happy"])]


def arguments(tmp_path, **options) -> TrainingArguments:
    settings = {"num_train_epochs": 5, "learning_rate": 1e-2, "per_device_train_batch_size": 2, "report_to": "none"}
    return TrainingArguments(
        output_dir=str(tmp_path / "trainer"), save_strategy="no", remove_unused_columns=False, **{**settings, **options}
    )


@pytest.mark.parametrize("options", [{}, {"label_group_size": 4, "label_shortlist_size": 5}])
def test_few_shot_training_moves_only_the_new_labels(bert_dir, tmp_path, options):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir, **options)
    ids = model.add_labels(NEW, tokenizer)
    before_state = {name: p.detach().clone() for name, p in model.state_dict().items()}
    before = scores(model.eval(), tokenizer)
    texts, targets = [t for t, _ in FEW], [[int(n in labels) for n in NEW] for _, labels in FEW]
    train_new_labels(model, tokenizer, ids, texts, targets, arguments(tmp_path))
    masks = new_label_parameters(model, ids)
    moved = []
    for name, value in model.state_dict().items():
        mask = masks.get(name)
        if mask is None:
            assert torch.equal(value, before_state[name]), name
        else:
            assert torch.equal(value[~mask], before_state[name][~mask]), name
            moved.append(name) if not torch.equal(value[mask], before_state[name][mask]) else None
    assert "bert.embeddings.word_embeddings.weight" in moved and "text_head.weight" in moved
    after = scores(model, tokenizer)
    if not options:  # no ranker: the old labels' scores do not move at all
        assert torch.equal(after[:, :4], before[:, :4])
    assert not torch.equal(after[:, 4:], before[:, 4:])
    assert all(p.requires_grad for p in model.parameters())  # left as they were


def test_the_few_shot_head_rate_is_the_one_chosen_on_validation(folder, tmp_path, monkeypatch):
    """docs/benchmarks/new_labels/choose-goemotions.md (NOTEBOOK 10): head rows at 3e-2 beat one rate of 3e-3 and
    rows fitted by logistic regression first, on new-label validation macro AP (k = 8, 3 seeds)."""
    taken = {}
    monkeypatch.setattr(command, "train_new_labels", lambda *args, **options: taken.update(options))
    write_inputs(tmp_path)
    inputs = ["--labels", str(tmp_path / "new.txt"), "--train_file", str(tmp_path / "few.jsonl")]
    main(["--model_path", str(folder), *inputs, "--output_dir", str(tmp_path / "out")])
    assert taken == {"head_learning_rate": 3e-2}


def test_weight_decay_is_refused(bert_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir)
    ids = model.add_labels(NEW, tokenizer)
    with pytest.raises(ValueError, match="weight_decay=0"):
        train_new_labels(model, tokenizer, ids, ["a"], [[1, 0]], arguments(tmp_path, weight_decay=0.01))


@pytest.fixture
def folder(bert_dir, tokenizer, tmp_path):
    model = spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS))
    return save(model, tokenizer, tmp_path / "model", thresholds=[0.3, 0.5, 0.7, 0.5])


def write_inputs(tmp_path):
    (tmp_path / "new.txt").write_text("happy\tjoy\n\ncs.math\tcs math\n")
    (tmp_path / "few.jsonl").write_text("".join(json.dumps({"text": t, "labels": y}) + "\n" for t, y in FEW))


def test_the_command_adds_labels_zero_shot_and_few_shot(folder, tmp_path):
    from lmmlc.evaluation import load_trained

    write_inputs(tmp_path)
    main(["--model_path", str(folder), "--labels", str(tmp_path / "new.txt"), "--output_dir", str(tmp_path / "zero")])
    few = [
        "--train_file",
        str(tmp_path / "few.jsonl"),
        "--num_train_epochs",
        "3",
        "--output_dir",
        str(tmp_path / "few"),
    ]
    main(["--model_path", str(folder), "--labels", str(tmp_path / "new.txt"), *few])
    original, tokenizer = load_trained(str(folder))
    zero, _ = load_trained(str(tmp_path / "zero"))
    taught, _ = load_trained(str(tmp_path / "few"))
    assert zero.config.label_names == taught.config.label_names == [*LABELS, *NEW]
    assert zero.config.label_thresholds == [0.3, 0.5, 0.7, 0.5, 0.5, 0.5]
    base = scores(original, tokenizer)
    for model in (zero, taught):
        assert torch.equal(scores(model, tokenizer)[:, :4], base)
    assert not torch.equal(scores(zero, tokenizer)[:, 4:], scores(taught, tokenizer)[:, 4:])
    assert sorted(p.name for p in (tmp_path / "few").iterdir()) == sorted(p.name for p in (tmp_path / "zero").iterdir())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: (p / "new.txt").write_text("joy\n"), r"already the model's or repeated: \['joy'\]"),
        (lambda p: (p / "new.txt").unlink(), "no such file"),
        (lambda p: (p / "few.jsonl").write_text('{"text": "so angry", "labels": []}\n'), "no positive example of"),
        (lambda p: (p / "few.jsonl").write_text('{"text": "so angry", "labels": "happy"}\n'), "must be a list"),
        (lambda p: (p / "few.jsonl").write_text('{"text": "", "labels": ["happy"]}\n'), "line 1"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(folder, tmp_path, change, message):
    write_inputs(tmp_path)
    change(tmp_path)
    argv = ["--model_path", str(folder), "--labels", str(tmp_path / "new.txt"), "--output_dir", str(tmp_path / "out")]
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        main([*argv, "--train_file", str(tmp_path / "few.jsonl")])
    assert not (tmp_path / "out").exists()


def test_a_baseline_or_a_used_output_folder_is_refused(bert_dir, tokenizer, tmp_path):
    write_inputs(tmp_path)
    baseline = save(spread(MODELS["baseline, mean pooling"](bert_dir)), tokenizer, tmp_path / "baseline")
    argv = ["--labels", str(tmp_path / "new.txt"), "--output_dir", str(tmp_path / "out")]
    with pytest.raises(ValueError, match="only label-mask models can add labels by name"):
        main(["--model_path", str(baseline), *argv])
    assert not (tmp_path / "out").exists()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="exists and is not empty"):
        main(["--model_path", str(baseline), *argv])


def test_new_labels_score_at_once(folder, tmp_path):
    write_inputs(tmp_path)
    main(["--model_path", str(folder), "--labels", str(tmp_path / "new.txt"), "--output_dir", str(tmp_path / "zero")])
    from transformers import pipeline

    classifier = pipeline(model=str(tmp_path / "zero"), trust_remote_code=True)
    assert {r["label"] for r in classifier(TEXTS[0], top_k=None)} == {*LABELS, *NEW}
