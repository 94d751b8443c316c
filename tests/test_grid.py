"""`benchmarks/grid.py`: configs refused before any work, runs ended by the deadline, the choice made on validation."""

import json
import sys
from argparse import ArgumentTypeError, Namespace

import pytest

import benchmarks.grid as grid
from benchmarks.grid import Config, main


def data_root(tmp_path):
    (tmp_path / "data" / "goemotions").mkdir(parents=True)
    (tmp_path / "data" / "goemotions" / "labels.txt").write_text("joy\n")
    return str(tmp_path / "data")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("baseline:1e-4", "METHOD:LEARNING_RATE:EPOCHS"),
        ("nope:1e-4:1", "'nope' is not a BERT row"),
        ("anchor-linear:1e-4:1", "'anchor-linear' is not a BERT row"),
        ("baseline:fast:1", "must be positive numbers"),
        ("baseline:1e-4:0", "must be positive numbers"),
        ("baseline:inf:1", "must be positive numbers"),
    ],
)
def test_a_config_that_is_not_method_rate_epochs_is_refused(text, message):
    with pytest.raises(ArgumentTypeError, match=message):
        Config.parse(text)


def test_the_command_line_shows_what_is_wrong_with_a_config(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["run", "--work_dir", str(tmp_path), "--configs", "baseline:1e-4"])
    assert "write each config as METHOD:LEARNING_RATE:EPOCHS" in capsys.readouterr().err


def test_a_grid_that_cannot_run_is_refused_before_any_work(tmp_path):
    work = tmp_path / "work"
    argv = ["run", "--work_dir", str(work), "--data_root", data_root(tmp_path), "--configs"]
    elsewhere = ["run", "--work_dir", str(work), "--data_root", str(tmp_path / "nowhere"), "--configs"]
    with pytest.raises(ValueError, match="given twice"):
        main([*argv, "baseline:1e-4:1", "baseline:1e-4:1"])
    with pytest.raises(ValueError, match=r"\['seed 42'\] given twice"):
        main([*argv, "baseline:1e-4:1", "--seeds", "42", "42"])
    with pytest.raises(ValueError, match="--workers 0"):
        main([*argv, "baseline:1e-4:1", "--workers", "0"])
    for deadline in ("0", "nan"):
        with pytest.raises(ValueError, match=f"--deadline {deadline}"):
            main([*argv, "baseline:1e-4:1", "--deadline", deadline])
    with pytest.raises(ValueError, match="not in profile 'cpu-full'"):
        main([*argv, "baseline:1e-4:1", "--dataset", "cooking-stackexchange"])
    with pytest.raises(FileNotFoundError, match="--data_root"):
        main([*elsewhere, "baseline:1e-4:1"])
    with pytest.raises(ValueError, match=r"--extra sets \['--num_train_epochs'\]"):
        main([*argv, "baseline:1e-4:1", "--extra", "--num_train_epochs", "3"])
    assert not work.exists()


def test_the_config_options_come_after_the_profile_and_the_users_last(tmp_path):
    args = Namespace(profile="cpu-full", dataset="goemotions", data_root="d", work_dir=str(tmp_path))
    args.model_name_or_path, args.extra = None, ["--max_train_samples", "8"]
    argv = grid.command(args, grid.Run(Config("baseline", "2e-4", "2"), 43))
    assert argv[argv.index("--methods") + 1] == "baseline" and argv[argv.index("--seeds") + 1] == "43"
    assert argv[argv.index("--extra") :] == [
        *["--extra", "--learning_rate", "2e-4", "--num_train_epochs", "2"],
        *["--disable_tqdm", "true", "--max_train_samples", "8"],
    ]


def fake_command(args, run):
    """A run that exits at once (0, or 3 for stock), or sleeps past the deadline (LM-MLC)."""
    script = {"baseline": "pass", "stock": "raise SystemExit(3)", "lmmlc-pooled-head": "import time; time.sleep(60)"}
    return [sys.executable, "-c", script[run.config.method]]


def test_runs_in_order_until_the_deadline_and_the_manifest_says_what_became_of_each(tmp_path, monkeypatch):
    monkeypatch.setattr(grid, "command", fake_command)
    configs = ["baseline:1e-4:1", "stock:1e-4:1", "lmmlc-pooled-head:3e-4:1", "baseline:2e-4:1"]
    argv = ["run", "--work_dir", str(tmp_path / "work"), "--data_root", data_root(tmp_path), "--seeds", "42"]
    argv += ["--workers", "1", "--deadline", "3"]
    main([*argv, "--configs", *configs])
    manifest = json.loads((tmp_path / "work" / "manifest.json").read_text())
    assert manifest["command"] == " ".join(["python -m benchmarks.grid", *argv, "--configs", *configs])
    runs = manifest["runs"]
    assert [(r["name"], r["status"]) for r in runs] == [
        ("baseline-lr1e-4-ep1-seed42", "finished"),
        ("stock-lr1e-4-ep1-seed42", "failed (exit 3)"),
        ("lmmlc-pooled-head-lr3e-4-ep1-seed42", "stopped at the deadline"),
        ("baseline-lr2e-4-ep1-seed42", "not started"),
    ]
    assert runs[2]["seconds"] < 30 and runs[3]["seconds"] is None


def test_the_manifest_holds_what_became_of_each_run_when_the_grid_breaks_off(tmp_path, monkeypatch):
    def breaking(args, run):
        if run.config.method == "stock":
            raise RuntimeError("the machine went away")
        return fake_command(args, run)

    monkeypatch.setattr(grid, "command", breaking)
    argv = ["run", "--work_dir", str(tmp_path / "work"), "--data_root", data_root(tmp_path), "--seeds", "42"]
    with pytest.raises(RuntimeError, match="went away"):
        main([*argv, "--configs", "baseline:1e-4:1", "stock:1e-4:1", "baseline:2e-4:1"])
    runs = json.loads((tmp_path / "work" / "manifest.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["finished", "not started", "not started"]


def write_run(work, config, seed, status, eval_micro=0.0, test_micro=0.0):
    """A manifest entry, and for a finished run its run_quality report (one-pass row and a rounds row)."""
    run = grid.Run(Config.parse(config), seed, status)
    if status == "finished":
        folder = work / "runs" / run.name / "report"
        folder.mkdir(parents=True)
        scores = {"eval_micro_f1@global": eval_micro, "test_micro_f1@global": test_micro}
        scores |= {"eval_macro_f1@per_label": 0.1, "test_macro_f1@per_label": 0.2, "train_samples_per_second": 9.0}
        row = {"dataset": "goemotions", "method": run.config.method, "seed": seed, **scores}
        rounds = {**row, "decoding": "confidence", "eval_micro_f1@global": 1.0}  # only one pass is averaged
        rows = [{**row, "decoding": "one_shot"}, rounds]
        (folder / "quality_cpu-full.json").write_text(json.dumps({"rows": rows}))
    return {"config": vars(run.config), "seed": seed, "status": status, "seconds": 1.0, "name": run.name}


def test_means_over_seeds_and_each_methods_choice_on_validation_among_complete_configs(tmp_path):
    work = tmp_path / "work"
    runs = [
        write_run(work, "baseline:1e-4:1", 42, "finished", eval_micro=0.60, test_micro=0.50),
        write_run(work, "baseline:1e-4:1", 43, "finished", eval_micro=0.62, test_micro=0.52),
        write_run(work, "baseline:1e-4:2", 42, "finished", eval_micro=0.59, test_micro=0.90),  # best test: no matter
        write_run(work, "baseline:1e-4:2", 43, "finished", eval_micro=0.59, test_micro=0.90),
        write_run(work, "baseline:2e-4:1", 42, "finished", eval_micro=0.99),  # best validation, a seed missing
        write_run(work, "baseline:2e-4:1", 43, "stopped at the deadline"),
        write_run(work, "stock:1e-4:1", 42, "failed (exit 1)"),
        write_run(work, "stock:1e-4:1", 43, "not started"),
        write_run(work, "lmmlc-pooled-head:3e-4:1", 42, "finished", eval_micro=0.55),  # below the baseline's
        write_run(work, "lmmlc-pooled-head:3e-4:1", 43, "finished", eval_micro=0.55),
        write_run(work, "lmmlc-pooled-head:2e-4:2", 42, "finished", eval_micro=0.50),
        write_run(work, "lmmlc-pooled-head:2e-4:2", 43, "finished", eval_micro=0.50),
    ]
    manifest = {"profile": "cpu-full", "dataset": "goemotions", "seeds": [42, 43], "runs": runs}
    (work / "manifest.json").write_text(json.dumps(manifest))
    main(["summarize", "--work_dir", str(work), "--output", str(tmp_path / "out" / "grid")])
    rows = {r["method"]: r for r in json.loads((tmp_path / "out" / "grid.json").read_text())["rows"]}
    assert list(rows)[:3] == ["baseline lr 1e-4 x1", "baseline lr 1e-4 x2", "baseline lr 2e-4 x1"]  # stock: none
    first = rows["baseline lr 1e-4 x1"]
    assert first["eval_micro_f1@global"] == pytest.approx(0.61) and first["test_micro_f1@global"] == pytest.approx(0.51)
    assert first["seeds"] == [42, 43] and first["row"] == "baseline" and first["epochs"] == "1"
    assert not any("second" in key for key in first)  # runs side by side: speeds left out
    assert [r["chosen"] for r in rows.values()] == [True, False, False, True, False]  # one per method
    assert [r["complete"] for r in rows.values()] == [True, True, False, True, True]
    text = (tmp_path / "out" / "grid.md").read_text()
    assert (
        "['baseline lr 1e-4 x1', 'lmmlc-pooled-head lr 3e-4 x1']" in text
        and "stock-lr1e-4-ep1-seed42': 'failed (exit 1)'" in text
    )


def test_summarize_refuses_a_grid_where_nothing_finished(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    manifest = {
        "profile": "cpu-full",
        "dataset": "goemotions",
        "seeds": [42],
        "runs": [write_run(work, "stock:1e-4:1", 42, "not started")],
    }
    (work / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="nothing to summarize"):
        main(["summarize", "--work_dir", str(work), "--output", str(tmp_path / "out")])
    assert not (tmp_path / "out.json").exists()
