import json

import datasets
import numpy as np
import pytest

from lmmlc import DataCollatorForLabelMask
from lmmlc.evaluation import decode_dataset, format_table, load_trained, main, metrics_at_thresholds
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
    assert len(shared) == 36
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
    table = format_table(results)
    assert table.count("\n") == 4 and "| eval | global | 1.0000 |" in table


def test_load_trained_refuses_a_plain_bert(bert_dir):
    with pytest.raises(ValueError, match="not an lmmlc model"):
        load_trained(str(bert_dir))


@pytest.mark.parametrize("strategy", ["one_shot", "confidence"])
def test_decode_dataset_matches_decoding_one_batch(make_model, tokenizer, strategy):
    model = make_model().eval()
    texts = ["i love it", "so angry about this thing", "sad", "happy joy the a", "fear it"]
    encoded = encode_dataset(datasets.Dataset.from_dict({"text": texts}), tokenizer, model.config)
    got = decode_dataset(model, tokenizer, encoded, batch_size=2, strategy=strategy)
    batch = DataCollatorForLabelMask(tokenizer, model.config)([tokenizer(t) for t in texts])
    assert np.allclose(got, model.decode(**batch, strategy=strategy).probs.numpy(), atol=1e-5)
    assert got.shape == (5, 4)
