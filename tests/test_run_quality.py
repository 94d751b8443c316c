"""`benchmarks/run_quality.py` end to end on a tiny BERT and a GoEmotions slice (the report files, not the figures)."""

import json

import pytest
import yaml

import benchmarks.run_quality as run_quality
from benchmarks.run_quality import README_JOB, main, mean_over_seeds, readme_job_options

from .conftest import slice_data


@pytest.mark.slow
def test_every_method_row_and_report_file(tmp_path, shared_data, bert_dir, monkeypatch):
    slice_data(shared_data, tmp_path / "data" / "goemotions", rows=24)
    methods = ["stock", "lmmlc-reveal", "lmmlc-stream-reveal-view", "anchor-logreg"]
    extra = ["--max_steps", "2", "--per_device_train_batch_size", "8", "--max_seq_length", "24"]
    argv = ["--datasets", "goemotions", "--data_root", str(tmp_path / "data"), "--model_name_or_path", str(bert_dir)]
    argv += ["--work_dir", str(tmp_path / "work"), "--report_dir", str(tmp_path / "report"), "--methods", *methods]
    main([*argv, "--extra", *extra])
    report = json.loads((tmp_path / "report" / "quality_cpu.json").read_text())
    assert [(r["method"], r["decoding"]) for r in report["rows"]] == [
        ("stock", "one_shot"),
        ("lmmlc-reveal", "one_shot"),
        ("lmmlc-reveal", "confidence"),
        ("lmmlc-stream-reveal-view", "one_shot"),
        ("lmmlc-stream-reveal-view", "confidence"),
        ("anchor-logreg", "one_shot"),
    ]
    assert all(r["test_examples_per_second"] > 0 for r in report["rows"][1:5])  # rounds timed against one pass
    anchor = report["rows"][5]  # trained on the same 24 examples, test-scored with validation-tuned thresholds
    assert anchor["train_examples"] == 24 and anchor["anchor"] == "logreg" and "test_micro_f1@per_label" in anchor
    for row in report["rows"][:3]:
        for prefix in ("eval", "test"):
            assert 0 <= row[f"{prefix}_subset_accuracy@0.5"] <= 1 and 0 <= row[f"{prefix}_micro_f1@global"] <= 1
    assert "test_micro_f1@per_label" not in report["rows"][2]  # the cpu profile decodes rounds at 0.5 and global
    assert report["command"].startswith("python -m benchmarks.run_quality --datasets goemotions")
    assert f"`{' '.join(extra)}` (overrides the profile)" in report["notes"][-1]  # the notes say what ran
    table = (tmp_path / "report" / "quality_cpu.md").read_text()
    assert "| lmmlc-reveal | confidence |" in table and "n/a" in table
    assert (tmp_path / "report" / "quality_cpu.png").stat().st_size > 1000
    monkeypatch.setattr("benchmarks.run_quality.train", lambda options: pytest.fail("trained again"))
    again = [*argv[:8], "--methods", "stock", "lmmlc-stream-reveal-view", "--reuse_trained"]  # through --work_dir
    again += ["--round_strategies", "confidence", "--round_margin", "0.2"]
    encoded, encode = [], run_quality.encode_splits
    monkeypatch.setattr(run_quality, "encode_splits", lambda *a: encoded.append(a[-1]) or encode(*a))
    margins, predict = [], run_quality.predict_dataset
    monkeypatch.setattr(
        run_quality, "predict_dataset", lambda *a, **o: margins.append(o.get("margin")) or predict(*a, **o)
    )
    main([*again, "--report_dir", str(tmp_path / "again"), "--extra", *extra])
    assert encoded == [("test",), ("test",), ("validation", "test")]  # one-pass timing decodes the test split only
    assert set(margins[-4:]) == {0.2} and None in margins  # the rounds at the given margin, one pass without
    rows = json.loads((tmp_path / "again" / "quality_cpu.json").read_text())["rows"]
    assert [r["decoding"] for r in rows] == ["one_shot", "one_shot", "confidence"] and rows[1]["reused"]
    assert rows[1]["test_micro_f1@global"] == report["rows"][3]["test_micro_f1@global"]  # the saved results
    assert rows[0]["method"] == "stock" and rows[0]["test_examples_per_second"] > 0  # a one-pass model, timed too


def test_unknown_dataset_fails_before_training(tmp_path):
    with pytest.raises(ValueError, match="not in profile 'cpu'"):
        main(["--datasets", "imdb", "--work_dir", str(tmp_path / "work")])
    assert not (tmp_path / "work").exists()


@pytest.mark.slow
def test_seeds_give_one_row_each_and_a_mean_with_sd(tmp_path, shared_data, bert_dir):
    slice_data(shared_data, tmp_path / "data" / "goemotions", rows=24)
    extra = ["--max_steps", "2", "--per_device_train_batch_size", "8", "--max_seq_length", "24"]
    argv = ["--datasets", "goemotions", "--data_root", str(tmp_path / "data"), "--model_name_or_path", str(bert_dir)]
    argv += ["--work_dir", str(tmp_path / "work"), "--report_dir", str(tmp_path / "report"), "--methods", "stock"]
    main([*argv, "--seeds", "1", "2", "--extra", *extra])
    report = json.loads((tmp_path / "report" / "quality_cpu.json").read_text())
    assert [r["seed"] for r in report["rows"]] == [1, 2]
    assert (tmp_path / "work" / "cpu" / "goemotions" / "stock" / "seed-2" / "all_results.json").exists()
    (mean,) = report["summary"]
    key = "test_micro_f1@global"
    values = [r[key] for r in report["rows"]]
    assert mean["seeds"] == [1, 2] and mean[key] == pytest.approx(sum(values) / 2)
    assert mean[f"{key}_sd"] == pytest.approx(abs(values[0] - values[1]) / 2**0.5)
    assert " ± " in (tmp_path / "report" / "quality_cpu.md").read_text()


def test_mean_over_seeds_keeps_rows_apart_and_skips_text():
    rows = [
        {"dataset": "d", "method": "m", "decoding": "one_shot", "seed": 1, "x": 0.2, "anchor": "a"},
        {"dataset": "d", "method": "m", "decoding": "one_shot", "seed": 2, "x": 0.4, "anchor": "a"},
        {"dataset": "d", "method": "m", "decoding": "confidence", "seed": 1, "x": 0.9},
    ]
    first, second = mean_over_seeds(rows)
    assert first == {
        "dataset": "d",
        "method": "m",
        "decoding": "one_shot",
        "seeds": [1, 2],
        "x": pytest.approx(0.3),
        "x_sd": pytest.approx(0.1414213),
    }
    assert second == {"dataset": "d", "method": "m", "decoding": "confidence", "seeds": [1], "x": 0.9}


@pytest.mark.slow
@pytest.mark.parametrize(("profile", "anchor_examples"), [("cpu", 8), ("readme", 24)])
def test_readme_profile_trains_anchors_on_the_whole_train_split(
    tmp_path, shared_data, bert_dir, profile, anchor_examples
):
    slice_data(shared_data, tmp_path / "data" / "goemotions", rows=24)
    argv = ["--profile", profile, "--datasets", "goemotions", "--data_root", str(tmp_path / "data")]
    argv += ["--model_name_or_path", str(bert_dir), "--work_dir", str(tmp_path / "work")]
    argv += ["--report_dir", str(tmp_path / "report"), "--methods", "lmmlc-defaults", "anchor-logreg"]
    compact = ["--mask_mode", "per_label", "--prompt_tokens_before", "0", "--prompt_tokens_after", "0"]  # 64 positions
    main([*argv, "--extra", "--max_steps", "1", "--max_seq_length", "24", "--max_train_samples", "8", *compact])
    report = json.loads((tmp_path / "report" / f"quality_{profile}.json").read_text())
    bert, anchor = report["rows"]
    assert bert["method"] == "lmmlc-defaults" and anchor["train_examples"] == anchor_examples


def test_readme_profile_is_the_readme_job_less_its_paths_and_seed():
    options = readme_job_options()
    assert "--data_dir" not in options and "--output_dir" not in options and "--seed" not in options
    assert options[options.index("--max_train_samples") + 1] == str(
        yaml.safe_load(README_JOB.read_text())["max_train_samples"]
    )
