"""`benchmarks/ranker_fusion.py`: the weight it chooses, and the report end to end on a tiny BERT and a
cooking-stackexchange slice."""

import json

import pytest

from benchmarks.many_labels import main as many_labels
from benchmarks.ranker_fusion import chosen, main

from .conftest import data_set


def test_the_chosen_setting_has_the_best_mean_validation_metric_and_ties_go_to_the_smaller_one():
    def row(size, weight, p1):
        return {"shortlist": size, "weight": weight, "eval_p@1": p1}

    summary = [row(128, 0.0, 0.70), row(128, 0.5, 0.72), row(128, 1.0, 0.72)]
    assert chosen(summary, "eval_p@1")["weight"] == 0.5
    assert chosen([summary[0], row(128, 2.0, 0.70)], "eval_p@1")["weight"] == 0.0
    assert chosen([*summary, row(32, 1.0, 0.72)], "eval_p@1") == row(32, 1.0, 0.72)


@pytest.mark.slow
def test_ranker_fusion_report(tmp_path, shared_data, bert_dir):
    data = str(data_set(shared_data, "cooking-stackexchange"))
    argv = ["--data_dir", data, "--model_name_or_path", str(bert_dir), "--max_train_samples", "16"]
    argv += ["--max_eval_samples", "16", "--rows", "lmmlc-stream-shortlist", "--epochs", "1"]
    many_labels([*argv, "--work_dir", str(tmp_path / "work"), "--output", str(tmp_path / "many")])
    model = str(tmp_path / "work" / "lmmlc-stream-shortlist")
    options = ["--data_dir", data, "--weights", "0", "2", "--max_eval_samples", "16", "--output", str(tmp_path / "f")]
    main(["--models", model, *options])
    rows = json.loads((tmp_path / "f.json").read_text())["rows"]
    summary = [r for r in rows if "seeds" in r]
    assert [r["weight"] for r in summary] == [0.0, 2.0] and [r["seeds"] for r in summary] == [[model]] * 2
    assert sum(r["chosen"] for r in summary) == 1
    per_model = [r for r in rows if "seed" in r]
    assert len(per_model) == 2 and all(r["seed"] == model for r in per_model)
    ranking = [[r[k] for k in ("eval_p@5", "eval_ndcg@5", "test_p@5", "test_ndcg@5")] for r in per_model]
    assert ranking[0] != ranking[1]  # the weight reaches the scores (ranking metrics need no threshold)
    for key in ("eval_p@1", "test_p@1", "test_p@5", "test_micro_f1@global", "test_macro_f1@per_label"):
        assert all(key in r for r in rows), key
    assert "(chosen)" in (tmp_path / "f.md").read_text() and (tmp_path / "f.png").exists()

    sizes = ["--shortlist_sizes", "2", "4", "--test", "chosen"]
    main(["--models", model, *options, *sizes, "--output", str(tmp_path / "g")])
    rows = json.loads((tmp_path / "g.json").read_text())["rows"]
    per_model = [r for r in rows if "seed" in r]
    assert sorted((r["shortlist"], r["weight"]) for r in per_model) == [(2, 0.0), (2, 2.0), (4, 0.0), (4, 2.0)]
    best = next(r for r in rows if r.get("chosen"))
    tested = [r for r in per_model if "test_p@1" in r]
    assert [(r["shortlist"], r["weight"]) for r in tested] == [(best["shortlist"], best["weight"])]


def test_bad_options_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--models", "m", "--weights", "-1"])
    assert "--weights must be finite numbers >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--models", "m", "--select_by", "test_p@1"])
    assert "must be a validation metric" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--models", "m", "--shortlist_sizes", "0"])
    assert "--shortlist_sizes must be >= 1" in capsys.readouterr().err
