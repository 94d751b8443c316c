"""`benchmarks/seed_means.py`: mean ± sd over seeds across reports, hand-computed."""

import json

import pytest

from benchmarks.seed_means import main


def write(path, rows):
    path.write_text(json.dumps({"command": "x", "rows": rows}))
    return str(path)


def quality_row(method, seed, micro, dataset="goemotions", decoding="one_shot"):
    return {"dataset": dataset, "method": method, "seed": seed, "decoding": decoding, "test_micro_f1@global": micro}


def test_means_and_sds_over_reports(tmp_path):
    first = write(tmp_path / "a.json", [quality_row("m", 42, 0.5), quality_row("m", 42, 0.9, dataset="aapd-small")])
    second = write(tmp_path / "b.json", [quality_row("m", 43, 0.7), quality_row("m", 44, 0.6, decoding="rounds")])
    argv = ["--reports", first, second, "--dataset", "goemotions", "--keys", "test_micro_f1@global"]
    main([*argv, "--output", str(tmp_path / "out")])
    (row,) = json.loads((tmp_path / "out.json").read_text())["rows"]
    assert row["seeds"] == [42, 43] and row["test_micro_f1@global"] == pytest.approx(0.6)
    assert row["test_micro_f1@global_sd"] == pytest.approx(0.02**0.5)  # ddof 1
    assert "0.6000 ± 0.1414" in (tmp_path / "out.md").read_text()


def test_many_labels_rows_take_seed_and_dataset_from_their_command_and_seedless_rows_are_left_out(tmp_path, capsys):
    command = "lmmlc-train --data_dir ../shared/data/cooking-stackexchange --seed {} --output_dir x"
    old = write(tmp_path / "old.json", [{"row": "baseline", "command": command.format(42), "test_p@1": 0.7}])
    rows = [{"row": "baseline", "seed": 43, "command": command.format(43), "test_p@1": 0.8}, {"row": "linear"}]
    new = write(tmp_path / "new.json", rows)
    main(["--reports", old, new, "--keys", "test_p@1", "--output", str(tmp_path / "out")])
    (row,) = json.loads((tmp_path / "out.json").read_text())["rows"]
    assert row["dataset"] == "cooking-stackexchange" and row["seeds"] == [42, 43]
    assert row["test_p@1"] == pytest.approx(0.75)
    assert "linear has no seed; left out" in capsys.readouterr().out


def test_a_seed_counted_twice_or_no_rows_is_an_error(tmp_path):
    report = write(tmp_path / "a.json", [quality_row("m", 42, 0.5)])
    with pytest.raises(ValueError, match="appears twice"):
        main(["--reports", report, report, "--output", str(tmp_path / "out")])
    with pytest.raises(ValueError, match="No rows for dataset 'aapd-small'"):
        main(["--reports", report, "--dataset", "aapd-small", "--output", str(tmp_path / "out")])
    with pytest.raises(ValueError, match="No row holds \\['test_p@1'\\]"):
        main(["--reports", report, "--keys", "test_p@1", "--output", str(tmp_path / "out")])
    assert not (tmp_path / "out.json").exists()
