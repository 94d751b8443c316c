"""`benchmarks/shortlist.py`: the recall it reports, and the report end to end on a tiny BERT and a
cooking-stackexchange slice."""

import json

import numpy as np
import pytest

from benchmarks.many_labels import main as many_labels
from benchmarks.shortlist import main, shortlist_recall

from .conftest import data_set


def test_shortlist_recall_counts_true_labels_among_the_top_scores():
    scores = np.array([[0.9, 0.1, 0.8, 0.3], [0.2, 0.7, 0.1, 0.6]])
    references = np.array([[1, 0, 0, 1], [0, 1, 0, 0]])
    assert shortlist_recall(scores, references, 2) == pytest.approx(2 / 3)  # label 3 of the first is third
    assert shortlist_recall(scores, references, 3) == 1.0
    assert shortlist_recall(scores, references, 9) == 1.0


@pytest.mark.slow
def test_shortlist_report(tmp_path, shared_data, bert_dir):
    data = str(data_set(shared_data, "cooking-stackexchange"))
    argv = ["--data_dir", data, "--model_name_or_path", str(bert_dir), "--max_train_samples", "16"]
    argv += ["--max_eval_samples", "16", "--rows", "lmmlc-stream-shortlist", "baseline", "--epochs", "1"]
    many_labels([*argv, "--work_dir", str(tmp_path / "work"), "--output", str(tmp_path / "many")])
    work = tmp_path / "work"
    models = ["--model", str(work / "lmmlc-stream-shortlist"), "--baseline", str(work / "baseline")]
    options = ["--data_dir", data, "--sizes", "4", "all", "--max_eval_samples", "16", "--output", str(tmp_path / "sl")]
    main([*models, *options])
    rows = {r["row"]: r for r in json.loads((tmp_path / "sl.json").read_text())["rows"]}
    assert set(rows) == {"baseline", "lmmlc shortlist 4", "lmmlc shortlist all"}
    assert rows["baseline"]["x_baseline"] == 1.0
    assert rows["lmmlc shortlist 4"]["labels_scored"] == 4 and rows["lmmlc shortlist all"]["labels_scored"] == 736
    assert rows["lmmlc shortlist all"]["test_recall@M"] == 1.0
    assert 0 <= rows["lmmlc shortlist 4"]["test_recall@M"] < 1.0
    for key in ("test_p@1", "test_micro_f1@global", "test_macro_f1@per_label", "inference_examples_per_second"):
        assert all(key in r for r in rows.values()), key
    assert "| lmmlc shortlist 4 | 4 |" in (tmp_path / "sl.md").read_text()


def test_bad_sizes_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--model", "m", "--baseline", "b", "--sizes", "0"])
    assert "neither a positive integer" in capsys.readouterr().err
