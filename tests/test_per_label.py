"""`benchmarks/per_label.py`: two rows label by label, thresholds from validation, a paired bootstrap on test."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score

from benchmarks.anchors import label_matrix, load_splits
from benchmarks.per_label import main, predictions, references, weighted_metrics, without_largest
from lmmlc.metrics import binarize, multilabel_metrics
from lmmlc.training import tune_thresholds

from .conftest import slice_data


@pytest.fixture
def data(tmp_path, shared_data):
    return slice_data(shared_data, tmp_path / "data", rows=200)


def scores_file(path, data, seed, truth_weight=0.0):
    """Random scores for `data`'s validation and test splits, moved toward the truth by `truth_weight`."""
    splits, names = load_splits(data)
    rng = np.random.default_rng(seed)
    scores = {}
    for split in ("validation", "test"):
        truth = label_matrix(splits[split], names)
        scores[split] = (1 - truth_weight) * rng.random(truth.shape) + truth_weight * truth
    np.savez(path, **scores)
    return scores


def report(tmp_path, runs, data, name="r"):
    output = tmp_path / name
    main(["--runs", *runs, "--data_dir", str(data), "--resamples", "300", "--output", str(output)])
    rows = json.loads(output.with_suffix(".json").read_text())["rows"]
    return {r["metric"]: r for r in rows if "metric" in r}, [r for r in rows if "test_positives" in r], rows


def test_row_means_match_an_independent_scoring_and_the_interval_holds_the_difference(tmp_path, data):
    a = [scores_file(tmp_path / f"a{s}.npz", data, s, 0.3) for s in (0, 1)]
    b = [scores_file(tmp_path / f"b{s}.npz", data, 10 + s, 0.1) for s in (0, 1)]
    runs = [f"A={tmp_path / f'a{s}.npz'}" for s in (0, 1)] + [f"B={tmp_path / f'b{s}.npz'}" for s in (0, 1)]
    gaps, labels, rows = report(tmp_path, runs, data)
    truth, _ = references(data)

    def expected(scores):
        tuned = SimpleNamespace()
        tune_thresholds(tuned, scores["validation"], truth["validation"])  # what lmmlc-train ships
        macro = f1_score(
            truth["test"], scores["test"] >= np.asarray(tuned.label_thresholds), average="macro", zero_division=0
        )
        plain = multilabel_metrics(binarize(scores["test"], tuned.threshold), truth["test"])
        return {"macro_f1": macro, "micro_f1": plain["micro_f1"], "subset_accuracy": plain["subset_accuracy"]}

    for metric, gap in gaps.items():
        assert gap["A"] == pytest.approx(np.mean([expected(s)[metric] for s in a]), abs=1e-9)
        assert gap["B"] == pytest.approx(np.mean([expected(s)[metric] for s in b]), abs=1e-9)
        assert gap["low"] <= gap["delta"] <= gap["high"] and 0 <= gap["share_above_0"] <= 1
    assert gaps["macro_f1"]["delta"] == pytest.approx(np.mean([e["delta_f1"] for e in labels]), abs=1e-9)
    assert gaps["micro_f1"]["low"] > 0 and gaps["micro_f1"]["share_above_0"] == 1.0  # A sees the truth, B barely
    assert [e["test_positives"] for e in labels] == truth["test"].sum(axis=0).tolist()
    assert sum(r.get("method") == "A" for r in rows) == 2 and (tmp_path / "r.md").exists()
    assert (tmp_path / "r.png").exists()


def test_identical_rows_differ_by_nothing_in_every_resample(tmp_path, data):
    scores_file(tmp_path / "same.npz", data, 0, 0.2)
    gaps, labels, _ = report(tmp_path, [f"A={tmp_path / 'same.npz'}", f"B={tmp_path / 'same.npz'}"], data)
    for gap in gaps.values():
        assert gap["delta"] == gap["low"] == gap["high"] == 0 and gap["share_above_0"] == 0
    assert all(e["delta_f1"] == 0 for e in labels)


def test_test_labels_never_reach_the_thresholds():
    rng = np.random.default_rng(0)
    truth = {s: rng.random((60, 4)) < 0.3 for s in ("validation", "test")}
    scores = {s: 0.4 * truth[s] + 0.6 * rng.random((60, 4)) for s in ("validation", "test")}  # some signal
    first = predictions(scores, truth)
    second = predictions(scores, {**truth, "test": ~truth["test"]})
    assert all(np.array_equal(first[k], second[k]) for k in first)
    third = predictions(scores, {**truth, "validation": ~truth["validation"]})
    assert not all(np.array_equal(first[k], third[k]) for k in first)  # validation does decide them


def test_weighted_metrics_count_an_example_as_often_as_it_is_drawn():
    rng = np.random.default_rng(1)
    truth = rng.random((40, 5)) < 0.3
    predicted = {"per_label": rng.random((40, 5)) < 0.4, "global": rng.random((40, 5)) < 0.3}
    drawn = rng.integers(0, 40, size=40)
    weights = np.bincount(drawn, minlength=40)[None, :].astype(float)
    got = weighted_metrics(predicted, truth, weights)
    macro = f1_score(truth[drawn], predicted["per_label"][drawn], average="macro", zero_division=0)
    plain = multilabel_metrics(predicted["global"][drawn].astype(int), truth[drawn].astype(int))
    assert got["macro_f1"][0] == pytest.approx(macro)
    assert got["micro_f1"][0] == pytest.approx(plain["micro_f1"])
    assert got["subset_accuracy"][0] == pytest.approx(plain["subset_accuracy"])


def test_the_largest_label_is_left_out_of_the_remaining_difference():
    labels = [{"label": "a", "delta_f1": 0.1}, {"label": "b", "delta_f1": -0.5}, {"label": "c", "delta_f1": 0.3}]
    assert without_largest(labels) == {"label": "b", "delta_f1": -0.5, "delta_macro_f1_without": pytest.approx(0.2)}


def test_bad_options_are_refused(tmp_path, capsys):
    (tmp_path / "s.npz").write_bytes(b"")
    for runs, message in (
        ([f"A={tmp_path / 's.npz'}"], "exactly two rows"),
        ([f"A={tmp_path / 's.npz'}", f"B={tmp_path / 's.npz'}", f"C={tmp_path / 's.npz'}"], "exactly two rows"),
        ([str(tmp_path / "missing")], "ROW=PATH"),
    ):
        with pytest.raises(SystemExit):
            main(["--runs", *runs])
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--runs", f"A={tmp_path / 's.npz'}", f"B={tmp_path / 's.npz'}", "--resamples", "10"])
    assert "at least 100" in capsys.readouterr().err


def test_a_model_folder_is_scored_once_per_setting_and_one_with_other_labels_is_refused(tmp_path, trained):
    data, model = trained
    cache = ["--work_dir", str(tmp_path / "cache"), "--resamples", "100"]
    for length in ("32", "48"):
        argv = ["--runs", f"A={model}", f"B={model}", "--data_dir", str(data), "--max_seq_length", length, *cache]
        main([*argv, "--output", str(tmp_path / f"len{length}")])
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2  # one per length: row B read row A's scores
    reordered = tmp_path / "reordered"
    reordered.mkdir()
    for name in ("train.jsonl", "validation.jsonl", "test.jsonl"):
        (reordered / name).write_text((data / name).read_text())
    names = (data / "labels.txt").read_text().split()
    (reordered / "labels.txt").write_text("\n".join(reversed(names)) + "\n")
    with pytest.raises(ValueError, match="other labels"):
        main(["--runs", f"A={model}", f"B={model}", "--data_dir", str(reordered), *cache])
