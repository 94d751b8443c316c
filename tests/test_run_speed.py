"""`benchmarks/run_speed.py` end to end on a tiny BERT (the report, not the figures)."""

import json

import pytest

from benchmarks.run_speed import main

from .conftest import slice_data


@pytest.mark.slow
def test_speed_report_rows_and_ratios(tmp_path, shared_data, bert_dir):
    data = slice_data(shared_data, tmp_path / "data", rows=40)
    argv = ["--data_dir", str(data), "--model_name_or_path", str(bert_dir), "--methods", "stock", "lmmlc-compact"]
    argv += ["--train_batches", "2", "--train_batch_size", "8", "--eval_examples", "16", "--eval_batch_size", "8"]
    main([*argv, "--output_file", str(tmp_path / "speed.json")])
    report = json.loads((tmp_path / "speed.json").read_text())
    rows = {(r["method"], r["phase"]): r for r in report["rows"]}
    assert set(rows) == {(m, p) for m in ("stock", "lmmlc-compact") for p in ("train", "inference")}
    assert rows[("stock", "train")]["ratio_to_stock"] == 1.0
    for row in rows.values():
        assert row["examples_per_s"] > 0 and row["peak_memory_mb"] > 0
    # the compact template adds one slot per GoEmotions label (28) and a closing [SEP] to every text
    extra = (
        rows[("lmmlc-compact", "inference")]["tokens_per_example"] - rows[("stock", "inference")]["tokens_per_example"]
    )
    assert extra == pytest.approx(28 + 1, abs=0.01)  # 28 slots and the closing [SEP]
    assert report["command"].startswith("python -m benchmarks.run_speed --data_dir")
