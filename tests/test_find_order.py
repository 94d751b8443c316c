import json

import pytest
from transformers import AutoModelForSequenceClassification

from lmmlc.find_order import main

from .conftest import scored_by_sklearn


@pytest.mark.slow
def test_find_order_reports_and_stores_the_best_order(trained, tmp_path_factory):
    data, model_dir = trained
    copy = tmp_path_factory.mktemp("order") / "model"
    copy.mkdir()
    for path in model_dir.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    main(
        [
            "--model_path",
            str(copy),
            "--data_dir",
            str(data),
            "--budget",
            "3",
            "--labels_per_round",
            "7",
            "--max_eval_samples",
            "16",
            "--seed",
            "1",
        ]
    )
    report = json.loads((copy / "order_search.json").read_text())
    assert {"one_shot", "confidence", "best_fixed"} <= set(report) and len(report["history"]) == 3
    expected = scored_by_sklearn(model_dir, data, "validation", 16)["subset_accuracy@per_label"]
    assert report["one_shot"] == pytest.approx(expected, abs=1e-9)  # the model's thresholds, scored independently
    assert all(0 <= report[k] <= 1 for k in ("confidence", "best_fixed"))
    model = AutoModelForSequenceClassification.from_pretrained(copy)
    assert report["stored"] == (report["best_fixed"] > report["current"])
    if report["stored"]:
        assert json.loads((copy / "all_results.json").read_text())["stale_decoder"] == report["current_strategy"]
        assert model.config.decode_strategy == "fixed"
        assert [model.config.label_names[i] for i in model.config.decode_order] == report["order"]
        assert sorted(model.config.decode_order) == list(range(28))
    else:
        assert model.config.decode_strategy == report["current_strategy"]


def test_find_order_refuses_a_baseline(tmp_path, bert_dir, tokenizer):
    from lmmlc import BertForMultiLabelClassification

    BertForMultiLabelClassification.from_encoder(bert_dir, label_names=["a", "b"]).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="not a label-mask model"):
        main(["--model_path", str(tmp_path), "--data_dir", str(tmp_path)])


def test_lower_is_better_metrics_keep_the_lowest_order():
    from lmmlc.find_order import search_order
    from lmmlc.order_search import random_search

    def loss(order):  # 0 for the identity, higher the more it is shuffled
        return sum(i != g for i, g in enumerate(order)) / 4

    result = search_order(random_search, loss, "hamming_loss", 4, 24, 0, start=[[3, 2, 1, 0], [0, 1, 2, 3]])
    assert result.order == [0, 1, 2, 3] and result.score == 0.0
    assert all(b <= a for (_, a), (_, b) in zip(result.history, result.history[1:], strict=False))


@pytest.mark.parametrize(
    ("metric", "found", "current", "stored"),
    [
        ("micro_f1", 0.6, 0.5, True),
        ("micro_f1", 0.5, 0.5, False),
        ("hamming_loss", 0.1, 0.2, True),
        ("hamming_loss", 0.3, 0.2, False),
    ],
)
def test_an_order_is_stored_only_when_it_beats_the_current_decoder(metric, found, current, stored):
    from lmmlc.find_order import beats

    assert beats(metric, found, current) is stored
