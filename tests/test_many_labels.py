"""`benchmarks/many_labels.py` end to end on a tiny BERT and a cooking-stackexchange slice (the report only)."""

import json

import pytest

from benchmarks.label_scaling import METHODS
from benchmarks.many_labels import BERT_ROWS, main

from .conftest import data_set


@pytest.mark.slow
def test_many_labels_report(tmp_path, shared_data, bert_dir):
    argv = ["--data_dir", str(data_set(shared_data, "cooking-stackexchange")), "--model_name_or_path", str(bert_dir)]
    argv += ["--rows", "lmmlc-stream", "stock", "--max_train_samples", "16", "--max_eval_samples", "16", "--seed", "7"]
    main([*argv, "--work_dir", str(tmp_path / "work"), "--output", str(tmp_path / "many")])
    report = json.loads((tmp_path / "many.json").read_text())
    rows = {r["row"]: r for r in report["rows"]}
    assert set(rows) == {"lmmlc-stream", "stock"}
    for key in ("test_p@1", "test_p@5", "test_r@5", "test_ndcg@5", "test_micro_f1@global", "test_macro_f1@per_label"):
        assert all(key in r for r in rows.values()), key
    assert "label_stream_layers" in rows["lmmlc-stream"]["command"]
    assert rows["stock"]["seed"] == 7 and "--seed 7 " in rows["stock"]["command"]
    table = (tmp_path / "many.md").read_text()
    assert "| lmmlc-stream |" in table and "| 1.00 |" in table  # stock's speed ratio to itself


def test_rows_measured_before_the_many_label_shortlist_default_keep_scoring_every_label():
    for row in ("lmmlc-stream", "lmmlc-stream-top1"):
        options = BERT_ROWS[row]
        assert options[options.index("--label_shortlist_size") + 1] == "0", row
    for method in ("lmmlc-stream", "lmmlc-stream-top2", "lmmlc-stream-top1"):
        assert METHODS[method]["label_shortlist_size"] == 0, method
    assert METHODS["lmmlc-stream-top2-shortlist128"]["ranker_score_weight"] == 0


def test_rows_measured_before_the_fused_ranker_score_keep_the_stream_alone_and_the_fused_row_does_not():
    for row, options in BERT_ROWS.items():
        if "--label_shortlist_size" not in options or options[options.index("--label_shortlist_size") + 1] == "0":
            continue
        weight = options[options.index("--ranker_score_weight") + 1] if "--ranker_score_weight" in options else None
        assert weight == ("0" if row != "lmmlc-shortlist-fused" else None), row
