import json

import datasets
import numpy as np
import pytest
from transformers import PretrainedConfig

from lmmlc import DataCollatorForLabelMask
from lmmlc.evaluation import decode_dataset, format_table, load_trained, main, metrics_at_thresholds, split_metrics
from lmmlc.metrics import RANKING_METRIC_NAMES
from lmmlc.tokenization import encode_dataset


@pytest.mark.slow
def test_evaluate_reproduces_the_training_report(trained, tmp_path):
    data, model = trained
    output = tmp_path / "metrics.json"
    main(
        ["--model_path", str(model), "--data_dir", str(data), "--output_file", str(output), "--max_eval_samples", "32"]
    )
    got = json.loads(output.read_text())
    reported = json.loads((model / "all_results.json").read_text())
    shared = [k for k in got if k.startswith(("eval_", "test_"))]
    assert len(shared) == 2 * (6 * 3 + 9)  # set metrics at 3 threshold settings, ranking metrics once
    for key in shared:
        assert got[key] == pytest.approx(reported[key], abs=1e-9), key


def test_metrics_at_thresholds_and_table():
    probabilities = np.array([[0.9, 0.2], [0.4, 0.6]])
    references = np.array([[1, 0], [1, 1]])
    settings = {"0.5": 0.5, "global": 0.3, "per_label": [0.3, 0.7]}
    results = metrics_at_thresholds(probabilities, references, settings, "eval")
    assert results["eval_subset_accuracy@0.5"] == 0.5
    assert results["eval_subset_accuracy@global"] == 1.0
    assert results["eval_micro_f1@per_label"] == pytest.approx(2 * 2 / (2 * 2 + 1))
    assert not any(key.startswith("eval_p@") for key in results)
    table = format_table(results)
    assert table.count("\n") == 4 and "| eval | global | 1.0000 |" in table


def test_split_metrics_report_ranking_metrics_once_per_split():
    probabilities = np.array([[0.9, 0.2, 0.4], [0.4, 0.6, 0.1]])
    encoded = {
        split: datasets.Dataset.from_dict({"labels": [[0, 0, 1], [1, 1, 0]]}) for split in ("validation", "test")
    }
    results = split_metrics({"validation": probabilities, "test": 1 - probabilities}, encoded, PretrainedConfig())
    assert set(results) == {"eval", "test"}
    assert len(results["eval"]) == 6 * 3 + 9  # the ranking metrics once, not per threshold setting
    assert list(results["eval"])[-9:] == [f"eval_{name}" for name in RANKING_METRIC_NAMES]
    # eval: ex0 ranks 0, 2, 1 (its true label 2 second), ex1 ranks 1, 0, 2 (both true labels first)
    assert results["eval"]["eval_p@1"] == pytest.approx((0 + 1) / 2)
    assert results["eval"]["eval_ndcg@3"] == pytest.approx((1 / np.log2(3) + 1) / 2)
    assert results["test"]["test_p@1"] == 0.0  # test: the reversed scores rank a false label first in both
    assert results["eval"]["eval_subset_accuracy@0.5"] == 0.0
    table = format_table({k: v for split in results.values() for k, v in split.items()})
    lines = table.splitlines()
    assert lines[:2] == [
        "| split | threshold | subset_accuracy | micro_f1 | macro_f1 | jaccard | hamming_loss | hamming_score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    assert lines[8] == "" and lines[9] == "| split | " + " | ".join(RANKING_METRIC_NAMES) + " |"
    assert lines[11].startswith("| eval | 0.5000 | ") and lines[12].startswith("| test | 0.0000 | ")


def test_load_trained_refuses_a_plain_bert(bert_dir):
    with pytest.raises(ValueError, match="not a multi-label model"):
        load_trained(str(bert_dir))


def test_load_trained_refuses_a_tokenizer_that_is_not_the_models(make_model, tokenizer, tmp_path):
    folder = tmp_path / "model"
    make_model().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    load_trained(str(folder))  # the tokenizer saved with the model loads
    (folder / "tokenizer.json").unlink()  # what remains loads a 5-token vocabulary: every word would be [UNK]
    with pytest.raises(
        ValueError, match=r"has 5 tokens for the model's 88 token embeddings.*tokenizer\.json is missing"
    ):
        load_trained(str(folder))


def test_a_missing_model_folder_is_named_before_anything_loads(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"--model_path .*absent/run: no such folder"):
        load_trained(str(tmp_path / "absent" / "run"))


@pytest.mark.parametrize("strategy", ["one_shot", "confidence"])
def test_decode_dataset_matches_decoding_one_batch(make_model, tokenizer, strategy):
    model = make_model().eval()
    texts = ["i love it", "so angry about this thing", "sad", "happy joy the a", "fear it"]
    encoded = encode_dataset(datasets.Dataset.from_dict({"text": texts}), tokenizer, model.config)
    got = decode_dataset(model, tokenizer, encoded, batch_size=2, strategy=strategy)
    batch = DataCollatorForLabelMask(tokenizer, model.config)([tokenizer(t) for t in texts])
    assert np.allclose(got, model.decode(**batch, strategy=strategy).probs.numpy(), atol=1e-5)
    assert got.shape == (5, 4)


def test_evaluate_without_validation_or_test_split_says_so(tmp_path, bert_dir, tokenizer):
    from lmmlc import BertForMultiLabelClassification

    model = tmp_path / "model"
    BertForMultiLabelClassification.from_pretrained(bert_dir, label_names=["a", "b"]).save_pretrained(model)
    tokenizer.save_pretrained(model)
    (tmp_path / "train.jsonl").write_text('{"text": "x", "labels": ["a"]}\n')
    output = tmp_path / "metrics.json"
    with pytest.raises(ValueError, match="validation or test"):
        main(["--model_path", str(model), "--train_file", str(tmp_path / "train.jsonl"), "--output_file", str(output)])
    assert not output.exists()
