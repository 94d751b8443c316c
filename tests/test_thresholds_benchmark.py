"""`benchmarks/thresholds.py`: shrunk per-label thresholds compared on trained runs, tuned on validation only."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score

from benchmarks.anchors import label_matrix, load_splits
from benchmarks.thresholds import chosen_strength, main
from lmmlc.training import tune_thresholds

from .conftest import noisy_rare_labels


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


def planted_data(folder, test_labels=None):
    """A data folder of 12 rare labels scored alike (`noisy_rare_labels`), and its scores file `scores.npz`."""
    folder.mkdir()
    names = [f"l{i}" for i in range(12)]
    (folder / "labels.txt").write_text("\n".join(names) + "\n")
    scores = {}
    for seed, split in enumerate(("train", "validation", "test")):
        probabilities, references = noisy_rare_labels(seed)
        references = references if split != "test" or test_labels is None else test_labels(references)
        lines = [
            json.dumps({"text": f"t{i}", "labels": [n for n, y in zip(names, row, strict=True) if y]})
            for i, row in enumerate(references)
        ]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
        scores[split] = probabilities
    np.savez(folder / "scores.npz", validation=scores["validation"], test=scores["test"])
    return folder


def test_test_labels_never_reach_the_choice(tmp_path):
    data = planted_data(tmp_path / "data")
    other = planted_data(tmp_path / "other", test_labels=lambda y: np.roll(y, 1, axis=1))
    first, second = (report(tmp_path, n, [f"a={d / 'scores.npz'}"], d) for n, d in (("x", data), ("y", other)))
    choice = [k for k in first[-1] if k.startswith("cv_") or k.endswith("strength")]
    assert first[-1]["auto_strength"] > 0  # shrinkage matters on this data, so a choice made on test could differ
    assert {k: first[-1][k] for k in choice} == {k: second[-1][k] for k in choice}
    assert first[0]["chosen_strength"] == second[0]["chosen_strength"]
    assert first[-1]["test_macro_f1@0"] != second[-1]["test_macro_f1@0"]
    chosen = [line for line in (tmp_path / "x.md").read_text().splitlines() if "(chosen)" in line]
    assert [line.split("|")[1] for line in chosen] == [
        line.split("|")[1] for line in (tmp_path / "y.md").read_text().splitlines() if "(chosen)" in line
    ]


def test_the_table_strength_has_the_best_mean_cross_validated_score_not_each_runs_best():
    rows = [{"cv_macro_f1@0": 0.9, "cv_macro_f1@10": 0.5, "cv_macro_f1@20": 0.8}]
    rows.append({"cv_macro_f1@0": 0.1, "cv_macro_f1@10": 0.55, "cv_macro_f1@20": 0.4})
    assert chosen_strength(rows, [0.0, 10.0, 20.0]) == 20.0
    assert chosen_strength([{"cv_macro_f1@0": 0.5, "cv_macro_f1@10": 0.5}], [0.0, 10.0]) == 0.0  # ties: the weaker


def test_a_model_with_other_labels_is_refused_and_the_cache_follows_the_settings(tmp_path, trained):
    data, model = trained
    reordered = tmp_path / "reordered"
    reordered.mkdir()
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        (reordered / name).write_text((data / name).read_text())
    names = (data / "labels.txt").read_text().split()
    (reordered / "labels.txt").write_text("\n".join(reversed(names)) + "\n")
    with pytest.raises(ValueError, match="other labels"):
        report(tmp_path, "bad", [f"m={model}"], reordered)
    for length in ("32", "48"):
        output = str(tmp_path / f"len{length}")
        main(
            [
                "--runs",
                f"m={model}",
                "--data_dir",
                str(data),
                "--max_seq_length",
                length,
                "--output",
                output,
                "--work_dir",
                str(tmp_path / "cache"),
            ]
        )
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


def test_bad_options_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--runs", f"a={tmp_path}", "--strengths", "10", "20"])
    assert "include 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--runs", f"a={tmp_path}", "--strengths", "0", "1000000", "1000001"])
    assert "print alike" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--runs", str(tmp_path / "missing")])
    assert "ROW=PATH" in capsys.readouterr().err


def test_the_gain_over_no_shrinkage_is_paired_per_run():
    from benchmarks.thresholds import gain_over_none

    rows = [{"cv_macro_f1@0": 0.5, "cv_macro_f1@10": 0.52}, {"cv_macro_f1@0": 0.6, "cv_macro_f1@10": 0.60}]
    gain, spread = gain_over_none(rows, 10.0)
    assert gain == pytest.approx(0.01) and spread == pytest.approx(np.std([0.02, 0.0], ddof=1))
    assert gain_over_none(rows[:1], 10.0) == (pytest.approx(0.02), 0.0)
