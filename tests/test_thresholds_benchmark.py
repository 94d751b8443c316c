"""`benchmarks/thresholds.py`: shrunk per-label thresholds compared on trained runs, tuned on validation only."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score

from benchmarks.anchors import label_matrix, load_splits
from benchmarks.thresholds import chosen_strength, main
from lmmlc.training import tune_thresholds


def random_scores(path, data, seed=0):
    splits, names = load_splits(data)
    rng = np.random.default_rng(seed)
    scores = {s: rng.random((len(splits[s]), len(names))) for s in ("validation", "test")}
    np.savez(path, **scores)
    return scores, {s: label_matrix(splits[s], names) for s in ("validation", "test")}


def report(tmp_path, name, runs, data):
    output = tmp_path / name
    main(["--runs", *runs, "--data_dir", str(data), "--work_dir", str(tmp_path / "cache"), "--output", str(output)])
    return json.loads(output.with_suffix(".json").read_text())["rows"]


def test_report_scores_models_and_score_files_and_matches_an_independent_macro_f1(tmp_path, trained):
    data, model = trained
    scores, truth = random_scores(tmp_path / "anchor.npz", data)
    rows = report(tmp_path, "r", [f"lmmlc={model}", f"anchor={tmp_path / 'anchor.npz'}", f"anchor={model}"], data)
    summary = {r["method"]: r for r in rows if "seeds" in r}
    assert set(summary) == {"lmmlc", "anchor"} and len(summary["anchor"]["seeds"]) == 2
    per_run = [r for r in rows if "seed" in r]
    assert len(per_run) == 3 and len({r["chosen_strength"] for r in summary.values()}) == 1
    for key in ("cv_macro_f1@0", "test_macro_f1@0", "cv_macro_f1@500", "test_macro_f1@auto", "auto_strength"):
        assert all(key in r for r in per_run), key
    anchor = next(r for r in per_run if r["seed"].endswith(".npz"))
    tuned = SimpleNamespace()
    tune_thresholds(tuned, scores["validation"], truth["validation"])  # what lmmlc-train stores as per_label
    expected = f1_score(truth["test"], scores["test"] >= np.asarray(tuned.label_thresholds), average="macro")
    assert anchor["test_macro_f1@0"] == pytest.approx(expected, abs=1e-9)
    text = (tmp_path / "r.md").read_text()
    assert text.count("(chosen)") == 1 and "over no shrinkage (3 runs)" in text and (tmp_path / "r.png").exists()
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1  # the model folder scored once, then cached


def test_test_labels_never_reach_the_choice(tmp_path, trained):
    data, _ = trained
    random_scores(tmp_path / "a.npz", data)
    other = tmp_path / "other"
    other.mkdir()
    for name in ("labels.txt", "train.jsonl", "validation.jsonl"):
        (other / name).write_text((data / name).read_text())
    lines = [json.loads(line) for line in (data / "test.jsonl").read_text().splitlines()]
    (other / "test.jsonl").write_text("\n".join(json.dumps({**x, "labels": ["joy"]}) for x in lines) + "\n")
    first, second = (report(tmp_path, n, [f"a={tmp_path / 'a.npz'}"], d)[-1] for n, d in (("x", data), ("y", other)))
    cv = [k for k in first if k.startswith("cv_") or k.endswith("strength")]
    assert {k: first[k] for k in cv} == {k: second[k] for k in cv}
    assert first["test_macro_f1@0"] != second["test_macro_f1@0"]


def test_the_table_strength_has_the_best_mean_cross_validated_score():
    rows = [{"cv_macro_f1@0": 0.5, "cv_macro_f1@10": 0.6, "cv_macro_f1@20": 0.6}, {"cv_macro_f1@0": 0.6}]
    rows[1].update({"cv_macro_f1@10": 0.6, "cv_macro_f1@20": 0.6})
    assert chosen_strength(rows, [0.0, 10.0, 20.0]) == 10.0


def test_bad_options_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--runs", f"a={tmp_path}", "--strengths", "10", "20"])
    assert "include 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--runs", str(tmp_path / "missing")])
    assert "ROW=PATH" in capsys.readouterr().err


def test_the_gain_over_no_shrinkage_is_paired_per_run():
    from benchmarks.thresholds import gain_over_none

    rows = [{"cv_macro_f1@0": 0.5, "cv_macro_f1@10": 0.52}, {"cv_macro_f1@0": 0.6, "cv_macro_f1@10": 0.60}]
    gain, spread = gain_over_none(rows, 10.0)
    assert gain == pytest.approx(0.01) and spread == pytest.approx(np.std([0.02, 0.0], ddof=1))
    assert gain_over_none(rows[:1], 10.0) == (pytest.approx(0.02), 0.0)
