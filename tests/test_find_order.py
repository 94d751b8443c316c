import json

import pytest
from transformers import AutoModelForSequenceClassification

from lmmlc.find_order import main


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
    assert all(0 <= report[k] <= 1 for k in ("one_shot", "confidence", "best_fixed"))
    model = AutoModelForSequenceClassification.from_pretrained(copy)
    assert model.config.decode_strategy == "fixed"
    assert [model.config.label_names[i] for i in model.config.decode_order] == report["order"]
    assert sorted(model.config.decode_order) == list(range(28))


def test_find_order_refuses_a_baseline(tmp_path, bert_dir, tokenizer):
    from lmmlc import BertForMultiLabelClassification

    BertForMultiLabelClassification.from_pretrained(bert_dir, label_names=["a", "b"]).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="baseline model"):
        main(["--model_path", str(tmp_path), "--data_dir", str(tmp_path)])
