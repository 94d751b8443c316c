import argparse
import json

import pytest

from benchmarks import label_count


def fake_train(calls):
    def train(options):
        output = options[options.index("--output_dir") + 1]
        calls.append(options)
        from pathlib import Path

        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        results = {"test_p@1": 0.5 + len(calls) / 100, "train_samples_per_second": 10.0, "train_runtime": 1.0}
        (folder / "all_results.json").write_text(json.dumps(results))
        (folder / "config.json").write_text(json.dumps({"id2label": {"0": "a", "1": "b"}}))

    return train


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text('{"text": "x", "labels": ["a"]}\n')
    (folder / "test.jsonl").write_text('{"text": "x", "labels": ["a"]}\n{"text": "y", "labels": ["b"]}\n')
    (folder / "labels.txt").write_text("a\nb\n")
    return folder


def test_a_finished_run_is_read_back_and_a_changed_one_runs_again(data, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("lmmlc.training.main", fake_train(calls))
    args = label_count.parse(["--datasets", f"d={data}", "--methods", "lmmlc", "--work_dir", str(tmp_path / "w")])
    first = label_count.run(args, "d", str(data), "lmmlc", 1.0, 0)
    again = label_count.run(args, "d", str(data), "lmmlc", 1.0, 0)
    assert len(calls) == 1 and first == again and first["labels"] == 2 and first["test_p@1"] == 0.51
    assert first["command"].startswith("lmmlc-train --data_dir") and "--seed 0" in first["command"]
    args.batch_size = 16  # another command in the same folder: trained again
    label_count.run(args, "d", str(data), "lmmlc", 1.0, 0)
    assert len(calls) == 2


def test_means_over_seeds_and_the_table():
    rows = [
        {"dataset": "d", "labels": 5, "method": "baseline", "epochs": 1.0, "seed": s, "test_p@1": p}
        for s, p in ((0, 0.5), (1, 0.7))
    ]
    (summary,) = label_count.means(rows)
    assert summary["seeds"] == [0, 1] and summary["test_p@1"] == pytest.approx(0.6)
    assert summary["test_p@1_sd"] == pytest.approx(0.1414, abs=1e-4) and summary["test_micro_f1@per_label"] is None
    line = label_count.table([summary]).splitlines()[2]
    assert line.startswith("| d | 5 | baseline | 1 | 2 | ") and "0.6000 ± 0.1414" in line


def test_bad_datasets_are_refused(tmp_path):
    with pytest.raises(argparse.ArgumentTypeError, match="give name=folder"):
        label_count.dataset_pair("no-folder")
    with pytest.raises(SystemExit):
        label_count.parse(["--datasets", f"d={tmp_path}", "--methods", "lmmlc"])


def test_reports_of_other_seeds_are_averaged_together(tmp_path):
    rows = [
        {"dataset": "d", "labels": 5, "method": "baseline", "epochs": 1.0, "seed": s, "test_p@1": p}
        for s, p in ((0, 0.5), (1, 0.7))
    ]
    for i, row in enumerate(rows):
        (tmp_path / f"r{i}.json").write_text(json.dumps({"rows": [row]}))
    label_count.main(
        ["--from_reports", str(tmp_path / "r0.json"), str(tmp_path / "r1.json"), "--output", str(tmp_path / "all")]
    )
    (summary,) = json.loads((tmp_path / "all.json").read_text())["means"]
    assert summary["seeds"] == [0, 1] and summary["test_p@1"] == pytest.approx(0.6)
    with pytest.raises(SystemExit):
        label_count.parse(["--from_reports", str(tmp_path / "absent.json")])
