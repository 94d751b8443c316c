"""`benchmarks/serving.py` end to end on tiny models (the report and its agreement columns, not the figures)."""

from __future__ import annotations

import json

from benchmarks.serving import main

from .conftest import LABELS
from .test_export import MODELS, TEXTS, save, spread


def test_serving_report_has_every_backend_and_agreement(tmp_path, bert_dir, tokenizer):
    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text("\n".join(LABELS) + "\n")
    rows = [{"text": text, "labels": [LABELS[i % 4]]} for i, text in enumerate(TEXTS * 10)]
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    models = []
    for kind in ("label stream (default)", "stock"):
        models.append(str(save(spread(MODELS[kind](bert_dir)), tokenizer, tmp_path / kind.split()[0])))
    argv = ["--models", *models, "--data_dir", str(data), "--throughput_texts", "32", "--latency_texts", "4"]
    main([*argv, "--output", str(tmp_path / "report" / "serving")])
    report = json.loads((tmp_path / "report" / "serving.json").read_text())
    assert [(r["model"], r["backend"]) for r in report["rows"]] == [
        (name, backend) for name in ("label", "stock") for backend in ("torch", "onnx", "onnx-int8")
    ]
    for row in report["rows"]:
        assert row["examples_per_s_b32"] > 0 and row["latency_p95_ms"] >= row["latency_p50_ms"] > 0
        assert 0 <= row["micro_f1"] <= 1
        if row["backend"] == "onnx":
            assert row["max_abs_difference"] <= 1e-4 and row["texts_with_other_labels"] == 0
    assert (tmp_path / "report" / "serving.png").stat().st_size > 1000
    assert "| label | onnx-int8 |" in (tmp_path / "report" / "serving.md").read_text()
