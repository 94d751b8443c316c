"""`benchmarks/new_labels.py` on tiny models: held-out choice, data preparation, and the report's rows."""

from __future__ import annotations

import json

import pytest

from benchmarks.new_labels import few_shot_sample, held_out_labels, main, prepare, read_split, scores
from lmmlc import BertForLabelMaskClassification

from .conftest import WORDS
from .test_export import MODELS, save, spread

NAMES = ["joy", "anger", "fear", "sad", "happy", "love"]


def write_source(folder, rows_per_split=24):
    folder.mkdir()
    (folder / "labels.txt").write_text("\n".join(NAMES) + "\n")
    for split in ("train", "validation", "test"):
        rows = []
        for i in range(rows_per_split):
            labels = [NAMES[i % 6]] + ([NAMES[(i + 1) % 6]] if i % 3 == 0 else []) + (["joy"] if i % 2 else [])
            rows.append(
                {"text": f"{WORDS[i % len(WORDS)]} {NAMES[i % 6]} {WORDS[(i * 7) % len(WORDS)]}", "labels": labels}
            )
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_held_out_labels_spread_over_frequency_ranks_and_prepare_removes_them(tmp_path):
    source = write_source(tmp_path / "source")
    held = held_out_labels(source, count=2)
    assert len(held) == 2 and "joy" not in held  # joy is the most frequent: never held out at this rank rule
    prepare(source, tmp_path / "prepared", held)
    assert (tmp_path / "prepared" / "labels.txt").read_text().split() == [n for n in NAMES if n not in held]
    rows = read_split(tmp_path / "prepared" / "train.jsonl")
    assert len(rows) == 24 and not any(set(r["labels"]) & set(held) for r in rows)
    assert json.loads((tmp_path / "prepared" / "held_out.json").read_text()) == held


def test_held_out_labels_can_skip_the_most_frequent_and_refuse_too_many(tmp_path):
    source = write_source(tmp_path / "source")
    ranked = held_out_labels(source, count=6)  # every label, in frequency order
    assert held_out_labels(source, count=2, skip=2) == [ranked[3], ranked[5]]  # ranks 2 + round(0.75 + 2 i)
    with pytest.raises(ValueError, match="Cannot hold out 5 of the 4 labels past the 2 most frequent"):
        held_out_labels(source, count=5, skip=2)


def test_macro_ap_leaves_out_labels_without_a_positive():
    import numpy as np

    truth = np.array([[1, 0], [0, 0], [1, 0]])
    result = scores(np.array([[0.9, 0.5], [0.1, 0.4], [0.8, 0.3]]), truth, (np.array([[0.2, 0.1]]), np.array([[1, 0]])))
    assert result["macro_ap"] == 1.0 and result["ap_1"] is None and result["val_macro_ap"] == 1.0


def test_a_new_label_without_a_positive_in_the_sample_scores_every_text_alike():
    import numpy as np

    from benchmarks.new_labels import baseline_rows

    features = {split: np.random.default_rng(0).normal(size=(6, 3)) for split in ("train", "val", "test")}
    train_y = np.array([[1, 0], [0, 0], [1, 0], [0, 0], [1, 0], [0, 0]])
    rows = baseline_rows(features, np.arange(6), train_y)
    assert rows["test"].shape == (6, 2) and (rows["test"][:, 1] == 0).all() and rows["test"][:, 0].std() > 0


def test_few_shot_sample_takes_k_positives_per_label_and_as_many_others():
    import numpy as np

    truth = np.zeros((40, 2), dtype=int)
    truth[:10, 0] = 1
    truth[10:13, 1] = 1
    sample = few_shot_sample(truth, 4, seed=0)
    assert truth[sample, 0].sum() >= 4 and truth[sample, 1].sum() == 3  # label 1 has only 3
    assert len(sample) == 2 * 7 and len(set(sample.tolist())) == len(sample)
    assert (few_shot_sample(truth, 4, seed=0) == sample).all() and not (
        few_shot_sample(truth, 4, seed=1) == sample
    ).all()


@pytest.mark.slow
def test_the_report_has_every_method_and_old_labels_stay(tmp_path, bert_dir, tokenizer):
    source = write_source(tmp_path / "source")
    held = ["fear", "love"]
    prepare(source, tmp_path / "data", held)
    kept = [n for n in NAMES if n not in held]
    model = spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=kept))
    full = spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=NAMES))
    baseline = spread(MODELS["baseline, mean pooling"](bert_dir))
    paths = [save(m, tokenizer, tmp_path / n) for m, n in ((model, "m"), (full, "full"), (baseline, "b"))]
    argv = ["run", "--source", str(source), "--data", str(tmp_path / "data"), "--model", str(paths[0])]
    argv += ["--baseline", str(paths[2]), "--full_model", str(paths[1]), "--ks", "2", "--seeds", "0", "--epochs", "1"]
    argv += ["--variants", "trained", "head-rate"]
    main([*argv, "--validation_rows", "12", "--output", str(tmp_path / "report" / "new_labels")])
    report = json.loads((tmp_path / "report" / "new_labels.json").read_text())
    methods = [r["method"] for r in report["rows"]]
    assert methods[:2] == ["LM-MLC, added by name", "cosine of frozen MiniLM embeddings (anchor)"]
    assert "pooled baseline, new head rows (frozen encoder)" in methods and methods[-1].endswith("(upper bound)")
    taught = [m for m in methods if m.startswith("LM-MLC, added and taught")]
    assert taught == ["LM-MLC, added and taught" + s for s in ("", ", head rows at 3e-2")]
    for row in report["rows"]:
        assert 0 <= row["macro_ap"] <= 1
        assert row.get("old_labels_identical", True) is True
    assert "Held-out labels: fear, love." in (tmp_path / "report" / "new_labels.md").read_text()
