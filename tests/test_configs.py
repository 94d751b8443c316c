"""The shipped configs: each one a working step (tiny encoder and data slice in place of MiniLM and GoEmotions)."""

import json
from pathlib import Path

import pytest
import torch
import yaml
from transformers import AutoTokenizer, pipeline

from lmmlc import BertForLabelMaskClassification
from lmmlc.find_order import main as find_order
from lmmlc.prediction import main as predict
from lmmlc.training import main as train

from .conftest import slice_data

CONFIGS = Path(__file__).parents[1] / "configs"
ROUNDS_CONFIGS = ["paper.yaml", "rounds.yaml"]


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_config_reads_the_shipped_data_and_only_known_options(path):
    from lmmlc.training import parse_args

    assert yaml.safe_load(path.read_text())["data_dir"] == "data/goemotions"  # no sibling folder needed
    model_args, data_args, _, training_args = parse_args([str(path)])  # an unknown or removed option fails here
    assert model_args.model_type == "lmmlc" and training_args.output_dir.startswith("outputs/")
    assert (CONFIGS.parent / data_args.data_dir / "labels.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ROUNDS_CONFIGS)
def test_the_rounds_configs_train_and_decode_in_rounds_everywhere(name, tmp_path, shared_data):
    data, out = slice_data(shared_data, tmp_path / "data", rows=24), tmp_path / "model"
    overrides = ["--data_dir", str(data), "--output_dir", str(out)]  # the bundled MiniLM: 28 labels' template fits
    train([str(CONFIGS / name), *overrides, "--max_steps", "2", "--per_device_train_batch_size", "8"])
    config = json.loads((out / "config.json").read_text())
    assert config["decode_strategy"] == "confidence"
    find_order(["--model_path", str(out), "--data_dir", str(data), "--budget", "2", "--max_eval_samples", "8"])
    report = json.loads((out / "order_search.json").read_text())
    if not report["stored"]:  # the found order did not beat confidence: store it anyway, to decode with it
        names = list(json.loads((out / "config.json").read_text())["id2label"].values())
        config = json.loads((out / "config.json").read_text())
        config["decode_order"] = [names.index(label) for label in report["order"]]
        (out / "config.json").write_text(json.dumps(config))
    texts = ["Thank you so much!", "This is awful, I hate it."]
    model = BertForLabelMaskClassification.from_pretrained(out).eval()
    classifier = pipeline("multi-label-classification", model=model, tokenizer=AutoTokenizer.from_pretrained(out))
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    for strategy in ("confidence", "fixed"):
        results = classifier(texts, strategy=strategy, top_k=None)
        batch = classifier.tokenizer(texts, padding=True, return_tensors="pt")
        with torch.no_grad():
            decoded = model.decode(**batch, strategy=strategy)
            one_per_round = model.decode(**batch, strategy=strategy, margin=0.0)
        for result, probs in zip(results, decoded.probs, strict=True):
            scores = {r["label"]: r["score"] for r in result}
            assert [scores[n] for n in model.config.label_names] == pytest.approx(probs.tolist(), abs=1e-5)
        assert (one_per_round.rounds == len(model.config.label_names)).all()  # one label per round
        output = tmp_path / f"{strategy}.jsonl"
        files = ["--input_file", str(tmp_path / "in.jsonl"), "--output_file", str(output)]
        predict(["--model_path", str(out), *files, "--strategy", strategy])
        rows = [json.loads(line) for line in output.read_text().splitlines()]
        written = [p for r in rows for p in r["scores"].values()]
        assert written == pytest.approx(decoded.probs.flatten().tolist(), abs=1e-5)


def test_a_rounds_decoder_on_the_default_model_names_the_rounds_configs(make_model, tokenizer):
    model = make_model(label_stream=True)  # the shipped compact stream
    with pytest.raises(ValueError, match=r"configs/rounds.yaml.*configs/paper.yaml"):
        model.decode(**tokenizer(["hi"], return_tensors="pt"), strategy="confidence")
