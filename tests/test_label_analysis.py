"""`lmmlc-analyze-labels` on a hand-made dataset whose correlations are computed by hand."""

import json
import math
import shutil
import subprocess

import numpy as np
import pytest

from lmmlc.label_analysis import TOO_RARE, analyze, band, label_matrix, phi_matrix, run

from .conftest import scored_by_sklearn

NAMES = ["a", "b", "c", "d"]
ROWS = [["a", "b"], ["a", "b"], ["a"], [], ["c"], ["b", "c"]]


def test_phi_by_hand():
    phi = phi_matrix(label_matrix(ROWS, NAMES))
    # a/b: n11=2 n10=1 n01=1 n00=2 -> (2*2 - 1*1) / sqrt(3*3*3*3) = 1/3
    assert phi[0, 1] == pytest.approx(1 / 3)
    # a/c: n11=0 n10=3 n01=2 n00=1 -> (0 - 6) / sqrt(3*3*2*4)
    assert phi[0, 2] == pytest.approx(-6 / math.sqrt(72))
    # b/c: n11=1 n10=2 n01=1 n00=2 -> (2 - 2) / ... = 0
    assert phi[1, 2] == pytest.approx(0.0)
    assert np.allclose(np.diag(phi)[:3], 1.0) and np.allclose(phi[3], 0.0)  # d never occurs
    assert np.allclose(phi, phi.T)


def test_report_counts_bands_and_verdict():
    report = analyze(label_matrix(ROWS, NAMES), NAMES, top=2, min_support=1)
    assert report["label_frequency"] == {"a": 3, "b": 3, "c": 2, "d": 0}
    assert report["labels_per_example"] == {"mean": pytest.approx(8 / 6), "counts": [1, 2, 3]}  # 0, 1, 2 labels
    assert report["cooccurrence"][0][1] == 2 and report["cooccurrence"][1][2] == 1
    assert [(p["a"], p["b"], p["band"]) for p in report["strongest_pairs"]] == [
        ("a", "c", "strong"),
        ("a", "b", "weak"),
    ]
    assert sum(report["pairs_per_band"].values()) == 6 and report["pairs_per_band"][TOO_RARE] == 3  # d never occurs
    assert "strongly" in report["verdict"]


def test_pairs_of_rare_labels_are_not_called_correlated():
    rows = [["a", "b"], *[["c"] if i % 2 else ["d"] for i in range(20)]]  # a, b: seen once, together (phi 1)
    report = analyze(label_matrix(rows, NAMES), NAMES)
    assert [(p["a"], p["b"]) for p in report["strongest_pairs"]] == [("c", "d")]  # c/d: 10 each, never together
    assert report["pairs_per_band"][TOO_RARE] == 5
    assert "correlate strongly (|phi| >= 0.6)" in report["verdict"] and report["verdict"].startswith("1 label")
    few = analyze(label_matrix(rows, NAMES), NAMES, min_support=11)
    assert few["strongest_pairs"] == [] and "too little data" in few["verdict"]


@pytest.mark.parametrize(
    ("value", "name"), [(0.95, "very strong"), (-0.7, "strong"), (0.4, "moderate"), (0.1, "very weak or none")]
)
def test_bands(value, name):
    assert band(value) == name


def test_command_writes_json_and_plots(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text("\n".join(NAMES) + "\n")
    for split in ("train", "validation", "test"):
        lines = [json.dumps({"text": f"text {i}", "labels": labels}) for i, labels in enumerate(ROWS)]
        (data / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    run(["--data_dir", str(data), "--output_dir", str(out), "--min_support", "1"])
    saved = json.loads((out / "label_analysis.json").read_text())
    assert saved["names"] == NAMES and saved["phi"][0][1] == pytest.approx(1 / 3)
    for name in ("label_correlation.png", "label_frequency.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (out / name).stat().st_size > 2000
    with pytest.raises(ValueError, match="not in the data"):
        run(["--data_dir", str(data), "--output_dir", str(out), "--split", "dev"])
    command = [shutil.which("lmmlc-analyze-labels"), "--data_dir", str(data), "--output_dir", str(tmp_path / "cli")]
    command += ["--min_support", "2"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]  # the console script exits 0 and prints the verdict
    assert result.stdout.strip().endswith("label correlation is likely to matter.")


@pytest.mark.slow
def test_per_label_f1_of_a_trained_model(trained, tmp_path):
    data, model = trained
    report = run(["--data_dir", str(data), "--output_dir", str(tmp_path), "--model_path", str(model)])
    f1 = report["test_f1_per_label"]
    expected = scored_by_sklearn(model, data)["per_label_f1@per_label"]
    assert list(f1.values()) == pytest.approx(expected, abs=1e-9) and len(f1) == 28
    assert (tmp_path / "per_label_f1.png").stat().st_size > 2000
