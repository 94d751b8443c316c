import json

import pytest

from lmmlc.prediction import main


@pytest.mark.slow
def test_predict_writes_labels_and_scores_per_line(trained, tmp_path):
    _data, model = trained
    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"id": "a", "text": "Thank you so much!"}\n\n{"text": "This is awful."}\n')
    output = tmp_path / "out.jsonl"
    main(["--model_path", str(model), "--input_file", str(texts), "--output_file", str(output)])
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    config = json.loads((model / "config.json").read_text())
    assert len(rows) == 2 and rows[0]["id"] == "a" and "id" not in rows[1]
    for row in rows:
        assert list(row["scores"]) == list(config["id2label"].values())
        assert all(0 <= p <= 1 for p in row["scores"].values())
        chosen = [n for i, n in enumerate(row["scores"]) if row["scores"][n] >= config["label_thresholds"][i]]
        assert row["labels"] == chosen


@pytest.mark.slow
@pytest.mark.parametrize(("content", "message"), [("", "holds no texts"), ('{"text": ""}\n', "line 1: missing")])
def test_bad_prediction_input_is_named(trained, tmp_path, content, message):
    texts = tmp_path / "texts.jsonl"
    texts.write_text(content)
    with pytest.raises(ValueError, match=message):
        main(["--model_path", str(trained[1]), "--input_file", str(texts), "--output_file", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


def test_a_missing_output_folder_fails_before_the_model_runs(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": "hi"}\n')
    output = tmp_path / "absent" / "out.jsonl"
    with pytest.raises(FileNotFoundError, match="absent"):
        main(
            [
                "--model_path",
                str(tmp_path / "no-model"),
                "--input_file",
                str(tmp_path / "in.jsonl"),
                "--output_file",
                str(output),
            ]
        )


def test_a_decoding_strategy_for_a_baseline_model_is_an_error(tmp_path, bert_dir, tokenizer):
    from lmmlc import BertForMultiLabelClassification

    model = tmp_path / "model"
    BertForMultiLabelClassification.from_encoder(bert_dir, label_names=["a", "b"]).save_pretrained(model)
    tokenizer.save_pretrained(model)
    (tmp_path / "in.jsonl").write_text('{"text": "hi"}\n')
    files = ["--input_file", str(tmp_path / "in.jsonl"), "--output_file", str(tmp_path / "out.jsonl")]
    with pytest.raises(ValueError, match=r"--strategy confidence: .* is not a label-mask model"):
        main(["--model_path", str(model), *files, "--strategy", "confidence"])
    assert not (tmp_path / "out.jsonl").exists()
    main(["--model_path", str(model), *files])
    assert set(json.loads((tmp_path / "out.jsonl").read_text())["scores"]) == {"a", "b"}


def test_the_input_file_is_never_the_output_file(tmp_path):
    texts = tmp_path / "in.jsonl"
    texts.write_text('{"text": "hi"}\n')
    files = ["--input_file", str(texts), "--output_file", str(tmp_path / "." / "in.jsonl")]
    with pytest.raises(ValueError, match="is the --input_file"):
        main(["--model_path", str(tmp_path / "no-model"), *files])
    assert texts.read_text() == '{"text": "hi"}\n'


def test_bad_input_is_refused_before_the_model_loads(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": ""}\n')
    files = ["--input_file", str(tmp_path / "in.jsonl"), "--output_file", str(tmp_path / "out.jsonl")]
    with pytest.raises(ValueError, match="line 1: missing"):  # the model folder does not exist: never reached
        main(["--model_path", str(tmp_path / "no-model"), *files])
