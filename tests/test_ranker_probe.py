"""`benchmarks/ranker_probe.py`: the recall it reports, and the report end to end on a cooking-stackexchange slice."""

import json

import pytest
import torch

from benchmarks.ranker_probe import SIZES, VARIANTS, main, recall

from .conftest import data_set


def test_recall_counts_true_labels_among_the_top_scores():
    scores = torch.arange(300, dtype=torch.float).repeat(2, 1)  # label 299 first, label 0 last
    y = torch.zeros(2, 300)
    y[0, 299] = y[0, 0] = y[1, 200] = 1
    got = recall(scores, y)
    assert got["recall@32"] == pytest.approx(1 / 3)  # label 200 ranks 100th
    assert got["recall@128"] == got["recall@256"] == pytest.approx(2 / 3)  # label 0 ranks last
    y[0, 0] = 0
    assert recall(scores, y)["recall@128"] == 1.0


@pytest.mark.slow
def test_ranker_probe_report(tmp_path, shared_data):
    data = data_set(shared_data, "cooking-stackexchange")
    argv = ["--data_dir", str(data), "--max_train_samples", "64", "--epochs", "1"]
    main([*argv, "--output", str(tmp_path / "probe")])
    rows = json.loads((tmp_path / "probe.json").read_text())["rows"]
    assert [(r["loss"], r["start"]) for r in rows[1:]] == VARIANTS and rows[0]["start"] == "names"
    assert all(0 < r[f"recall@{m}"] <= 1 for r in rows for m in SIZES)
    assert "| softmax | random |" in (tmp_path / "probe.md").read_text()
