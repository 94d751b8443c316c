"""`benchmarks/label_scaling.py` end to end on a tiny BERT (the report, not the figures)."""

import json

import pytest

from benchmarks.label_scaling import label_names, main

from .conftest import data_set


def test_label_names_extend_the_real_tags_with_synthetic_ones(shared_data):
    names = label_names(str(data_set(shared_data, "cooking-stackexchange")), 800)
    assert len(names) == len(set(names)) == 800 and names[-1] == "synthetic tag 63"


@pytest.mark.slow
def test_cost_report_rows_and_ratios(tmp_path, shared_data, bert_dir):
    argv = ["--data_dir", str(data_set(shared_data, "cooking-stackexchange")), "--model_name_or_path", str(bert_dir)]
    argv += ["--label_counts", "4", "800", "--methods", "baseline", "lmmlc-single-sequence", "lmmlc-stream-top1"]
    argv += ["--train_batches", "1", "--batch_size", "4", "--eval_examples", "8", "--label_sample_size", "4"]
    main([*argv, "--output", str(tmp_path / "scaling")])
    report = json.loads((tmp_path / "scaling.json").read_text())
    rows = {(r["method"], r["labels"], r["phase"]): r for r in report["rows"]}
    assert ("lmmlc-single-sequence", 800, "train") not in rows  # 800 labels never fit one sequence
    assert ("lmmlc-stream-top1", 800, "inference") in rows and rows[("baseline", 4, "train")]["x_baseline"] == 1.0
    assert all(r["examples_per_s"] > 0 and r["peak_rss_mb"] > 0 for r in rows.values())
    assert (tmp_path / "scaling.png").stat().st_size > 0 and "| 800 |" in (tmp_path / "scaling.md").read_text()
