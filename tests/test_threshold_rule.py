import json

import numpy as np

from benchmarks.threshold_rule import main

from .conftest import noisy_rare_labels


def write_data(folder, references):
    folder.mkdir()
    names = [f"l{i}" for i in range(references.shape[1])]
    (folder / "labels.txt").write_text("\n".join(names) + "\n")
    for split in ("train", "validation", "test"):
        rows = [
            {"text": f"text {i}", "labels": [n for n, y in zip(names, row, strict=True) if y]}
            for i, row in enumerate(references)
        ]
        rows = [r if r["labels"] else {**r, "labels": [names[0]]} for r in rows]  # every example keeps a label
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return names


def test_every_rule_is_scored_on_cross_fitted_validation_and_on_test(tmp_path):
    probabilities, references = noisy_rare_labels(1, rows=400, labels=6, positives=12)
    write_data(tmp_path / "data", references)
    from benchmarks.per_label import references as read_truth

    truth, _ = read_truth(str(tmp_path / "data"))
    np.savez(tmp_path / "scores.npz", validation=probabilities, test=probabilities)
    output = tmp_path / "report"
    main(["--runs", f"noisy={tmp_path / 'scores.npz'}@{tmp_path / 'data'}", "--output", str(output)])
    rows = json.loads(output.with_suffix(".json").read_text())["rows"]
    assert [r["rule"] for r in rows] == ["5", "10", "20", "50", "100", "global", "auto"]
    auto = rows[-1]
    chosen = next(r for r in rows[:-1] if r["rule"] == auto["min_positives"])
    assert auto["cv_objective"] == max(r["cv_objective"] for r in rows[:-1]) == chosen["cv_objective"]
    assert auto["test_micro_f1"] == chosen["test_micro_f1"]
    global_row = rows[5]
    predicted = probabilities >= global_row_threshold(probabilities, truth["validation"])
    assert global_row["test_micro_f1"] == micro_f1(predicted, truth["test"])
    assert output.with_suffix(".png").exists()


def global_row_threshold(probabilities, references):
    from lmmlc.thresholds import tune_global_threshold

    return tune_global_threshold(probabilities, references)


def micro_f1(predicted, references):
    from lmmlc.metrics import multilabel_metrics

    return multilabel_metrics(predicted, references)["micro_f1"]
