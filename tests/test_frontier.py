"""`benchmarks/frontier.py`: gains over the all-masked one pass and the report files, from hand-made reports."""

import json

import pytest

from benchmarks.frontier import frontier_rows, main


def summary_row(method, decoding, subset, micro, macro, speed=None, dataset="d"):
    row = {"dataset": dataset, "method": method, "decoding": decoding, "seeds": [1, 2]}
    row.update({"test_subset_accuracy@global": subset, "test_micro_f1@global": micro, "test_macro_f1@global": macro})
    row["test_subset_accuracy@global_sd"] = 0.01
    if speed is not None:
        row["test_examples_per_second"] = speed
    return row


REPORTS = [
    {"summary": [summary_row("ref", "one_shot", 0.30, 0.50, 0.40, speed=200.0)]},
    {"summary": [summary_row("rev", "one_shot", 0.28, 0.49, 0.38), summary_row("rev", "fixed", 0.34, 0.48, 0.41, 50)]},
    {"summary": [summary_row("rev", "random", 0.3, 0.5, 0.4, 30.0), summary_row("ref", "one_shot", 0, 0, 0, 120.0)]},
    {"summary": [summary_row("rev", "fixed", 0.5, 0.5, 0.5, 10.0, dataset="other")]},
    {"summary": [summary_row("rev", "fixed", 0.9, 0.9, 0.9, 1.0)]},  # repeated: the first report's row is kept
]


def test_gains_and_speed_are_against_the_reference_one_pass_of_the_same_dataset():
    rows = {(r["dataset"], r["method"], r["decoding"]): r for r in frontier_rows(REPORTS, "ref")}
    fixed = rows["d", "rev", "fixed"]
    assert fixed["subset_accuracy_gain"] == pytest.approx(0.04)
    assert fixed["micro_f1_gain"] == pytest.approx(-0.02) and fixed["macro_f1_gain"] == pytest.approx(0.01)
    assert fixed["speed_ratio"] is None and fixed["subset_accuracy_sd"] == 0.01  # reference timed in another run
    assert rows["d", "rev", "random"]["speed_ratio"] == pytest.approx(0.25)  # against its own run's reference
    assert rows["d", "rev", "random"]["micro_f1_gain"] == 0  # metrics: against the first report's reference
    assert rows["d", "ref", "one_shot"]["speed_ratio"] == pytest.approx(1.0)
    assert rows["d", "rev", "one_shot"]["speed_ratio"] is None  # not timed
    assert rows["d", "ref", "one_shot"]["micro_f1_gain"] == 0
    other = rows["other", "rev", "fixed"]
    assert other["subset_accuracy_gain"] is None and other["speed_ratio"] is None  # no reference there


def test_report_files(tmp_path):
    paths = []
    for i, report in enumerate(REPORTS):
        paths.append(tmp_path / f"r{i}.json")
        paths[-1].write_text(json.dumps(report))
    main([*map(str, paths), "--reference", "ref", "--output", str(tmp_path / "out" / "frontier")])
    saved = json.loads((tmp_path / "out" / "frontier.json").read_text())
    assert len(saved["rows"]) == 5 and saved["command"].startswith("python -m benchmarks.frontier")
    assert "| d | rev | fixed | 0.3400 ± 0.0100 |" in (tmp_path / "out" / "frontier.md").read_text()
    assert (tmp_path / "out" / "frontier.png").stat().st_size > 1000
