import json

import datasets
import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, PretrainedConfig

from lmmlc import DataCollatorForLabelMask
from lmmlc.evaluation import format_table, load_trained, main, metrics_at_thresholds, predict_dataset, split_metrics
from lmmlc.metrics import RANKING_METRIC_NAMES
from lmmlc.tokenization import encode_dataset

from .conftest import LABELS


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
    tuned = PretrainedConfig(num_labels=3, threshold=0.5, label_thresholds=[0.5, 0.5, 0.5])
    results = split_metrics({"validation": probabilities, "test": 1 - probabilities}, encoded, tuned)
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
    (folder / "tokenizer.json").unlink()
    if len(AutoTokenizer.from_pretrained(folder)) == len(tokenizer):  # transformers 4.x reads vocab.txt instead
        assert len(load_trained(str(folder))[1]) == len(tokenizer)
        return
    # transformers 5 loads a 5-token vocabulary from what remains: every word would be [UNK]
    with pytest.raises(
        ValueError, match=r"has 5 tokens for the model's 88 token embeddings.*tokenizer\.json is missing"
    ):
        load_trained(str(folder))


def test_a_missing_model_folder_is_named_before_anything_loads(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"--model_path .*absent/run: no such folder"):
        load_trained(str(tmp_path / "absent" / "run"))


@pytest.mark.parametrize("strategy", ["one_shot", "confidence"])
def test_predict_dataset_matches_decoding_one_batch(make_model, tokenizer, strategy):
    model = make_model().eval()
    texts = ["i love it", "so angry about this thing", "sad", "happy joy the a", "fear it"]
    encoded = encode_dataset(datasets.Dataset.from_dict({"text": texts}), tokenizer, model.config)
    got = predict_dataset(model, tokenizer, encoded, batch_size=2, strategy=strategy)
    batch = DataCollatorForLabelMask(tokenizer, model.config)([tokenizer(t) for t in texts])
    assert np.allclose(got, model.decode(**batch, strategy=strategy).probs.numpy(), atol=1e-5)
    assert got.shape == (5, 4)


def test_evaluate_without_validation_or_test_split_says_so(tmp_path, bert_dir, tokenizer):
    from lmmlc import BertForMultiLabelClassification

    model = tmp_path / "model"
    BertForMultiLabelClassification.from_encoder(bert_dir, label_names=["a", "b"]).save_pretrained(model)
    tokenizer.save_pretrained(model)
    (tmp_path / "train.jsonl").write_text('{"text": "x", "labels": ["a"]}\n')
    output = tmp_path / "metrics.json"
    with pytest.raises(ValueError, match="validation or test"):
        main(["--model_path", str(model), "--train_file", str(tmp_path / "train.jsonl"), "--output_file", str(output)])
    assert not output.exists()


@pytest.fixture
def confident_folder(make_model, tokenizer, tmp_path):
    """A saved label-mask model that ships confidence decoding, weights spread so rounds change the scores,
    and a data folder over its labels."""
    model = make_model(decode_strategy="confidence", labels_per_round=1).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.5)
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text("\n".join(LABELS) + "\n")
    texts = ["i love it", "so angry about this thing", "sad", "happy joy the a", "fear it", "it so i love"]
    rows = [{"text": t, "labels": [LABELS[i % 4]] + ([LABELS[3]] if i % 3 == 0 else [])} for i, t in enumerate(texts)]
    for split in ("validation", "test"):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "model", data


@pytest.mark.parametrize("command", ["evaluate", "find_order"])
def test_an_unwritable_output_file_fails_before_the_model_loads(command, tmp_path):
    from lmmlc import find_order

    run = main if command == "evaluate" else find_order.main
    options = ["--data_dir", str(tmp_path), "--output_file", str(tmp_path / "absent" / "metrics.json")]
    with pytest.raises(FileNotFoundError, match="absent"):  # the model folder is missing too: checked later
        run(["--model_path", str(tmp_path / "no-model"), *options])


def test_comparing_a_fixed_order_the_model_lacks_fails_before_scoring(confident_folder, tmp_path):
    folder, data = confident_folder
    output = tmp_path / "metrics.json"
    with pytest.raises(ValueError, match="needs the model's decode_order"):
        options = ["--data_dir", str(data), "--output_file", str(output), "--compare_strategies", "fixed"]
        main(["--model_path", str(folder), *options])
    assert not output.exists()


def test_evaluate_and_predict_score_the_decoder_the_model_ships(confident_folder, tmp_path):
    from lmmlc.configuration_lmmlc import label_names_of
    from lmmlc.prediction import main as predict

    folder, data = confident_folder
    output = tmp_path / "metrics.json"
    options = ["--data_dir", str(data), "--output_file", str(output), "--compare_strategies", "one_shot"]
    main(["--model_path", str(folder), *options])
    got = json.loads(output.read_text())
    model, tokenizer = load_trained(str(folder))
    test = encode_dataset(datasets.Dataset.from_json(str(data / "test.jsonl")), tokenizer, model.config)
    references = np.asarray(test["labels"])
    shipped = predict_dataset(model, tokenizer, test, progress=False)
    one_pass = predict_dataset(model, tokenizer, test, progress=False, strategy="one_shot")
    assert not np.allclose(shipped, one_pass, atol=1e-3)  # the fixture makes the two decoders differ
    for probabilities, results in ((shipped, got), (one_pass, got["by_strategy"]["one_shot"])):
        expected = split_metrics({"test": probabilities}, {"test": test}, model.config)["test"]
        assert {k: results[k] for k in expected} == pytest.approx(expected)
    assert got["decoder"] == "confidence"
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in test["text"]))
    predict(["--model_path", str(folder), "--input_file", str(tmp_path / "in.jsonl"), "--output_file", str(output)])
    scores = [json.loads(line)["scores"] for line in output.read_text().splitlines()]
    names = label_names_of(model.config)
    assert np.allclose([[row[n] for n in names] for row in scores], shipped, atol=1e-5)
    assert references.shape == shipped.shape


def test_a_compared_strategy_the_model_cannot_run_fails_before_scoring(make_model, tokenizer, tmp_path, monkeypatch):
    from lmmlc import evaluation

    folder = tmp_path / "compact"
    compact = {"mask_mode": "per_label", "prompt_tokens_before": 0, "prompt_tokens_after": 0}
    make_model(label_stream=True, **compact).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    monkeypatch.setattr(evaluation, "score_splits", lambda *a, **k: pytest.fail("scored before the check"))
    output = tmp_path / "metrics.json"
    options = ["--data_dir", str(tmp_path), "--output_file", str(output), "--compare_strategies", "one_shot"]
    with pytest.raises(ValueError, match="--compare_strategies confidence shows labels as YES/NO"):
        main(["--model_path", str(folder), *options, "confidence"])
    assert not output.exists()


def test_untuned_thresholds_report_only_what_the_model_predicts_at():
    from lmmlc.evaluation import threshold_settings

    assert threshold_settings(PretrainedConfig(num_labels=2)) == {"0.5": 0.5}  # no validation: nothing was tuned
    assert threshold_settings(PretrainedConfig(num_labels=2, threshold=0.3)) == {"0.5": 0.5, "global": 0.3}
    tuned = threshold_settings(PretrainedConfig(num_labels=2, threshold=0.3, label_thresholds=[0.2, 0.4]))
    assert tuned == {"0.5": 0.5, "global": 0.3, "per_label": [0.2, 0.4]}


def test_a_folder_without_tuned_thresholds_says_what_it_predicts_at(make_model, tokenizer, tmp_path, capsys):
    folder = tmp_path / "checkpoint-2"
    make_model().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    load_trained(str(folder))
    out = capsys.readouterr().out
    assert "holds no tuned thresholds" in out and "every label is predicted at 0.5" in out
    model, _ = load_trained(str(folder))
    model.config.threshold, model.config.label_thresholds = 0.4, [0.4] * model.config.num_labels
    model.save_pretrained(tmp_path / "final")
    tokenizer.save_pretrained(tmp_path / "final")
    capsys.readouterr()
    load_trained(str(tmp_path / "final"))
    assert "tuned thresholds" not in capsys.readouterr().out
