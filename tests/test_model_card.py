"""The model card of a trained folder: Hub metadata that `ModelCard.load` parses, and its body."""

import json

import pytest
from huggingface_hub import ModelCard

from lmmlc.model_card import build_model_card


@pytest.mark.slow
def test_card_round_trips_through_modelcard_load(trained, tmp_path):
    _, folder = trained
    card = build_model_card(folder, "someone/goemotions-lmmlc", datasets=["google-research-datasets/go_emotions"])
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")
    data = loaded.data
    assert data.library_name == "transformers" and data.pipeline_tag == "text-classification"
    assert data.license == "apache-2.0" and data.datasets == ["google-research-datasets/go_emotions"]
    assert {"f1", "accuracy", "jaccard"} <= set(data.metrics) and "lmmlc" in data.tags
    results = json.loads((folder / "all_results.json").read_text())
    by_name = {r.metric_name: r.metric_value for r in data.eval_results}
    assert by_name["micro_f1 (tuned global threshold)"] == round(results["test_micro_f1@global"], 4)
    assert all(r.dataset_split == "test" for r in data.eval_results)
    config = json.loads((folder / "config.json").read_text())
    names = [config["id2label"][str(i)] for i in range(28)]
    for name, threshold in zip(names, config["label_thresholds"], strict=True):
        assert f"| {name} | {threshold:.2f} |" in loaded.text
    assert 'pipeline(model="someone/goemotions-lmmlc", trust_remote_code=True)' in loaded.text
    assert "| test | global |" in loaded.text and f'"mask_mode": "{config["mask_mode"]}"' in loaded.text


def test_card_of_a_folder_without_results(make_model, tmp_path):
    make_model().save_pretrained(tmp_path)
    card = build_model_card(tmp_path, "someone/untrained")
    assert card.data.eval_results is None and "## Metrics" not in card.text
    assert "| joy | 0.50 |" in card.text
    assert "No threshold was tuned" in card.text and "tuned on validation" not in card.text


def test_label_names_cannot_break_the_cards_table(make_model, tmp_path):
    make_model(["a|b", "<script>x</script>", "fear", "joy"]).save_pretrained(tmp_path)
    text = build_model_card(tmp_path, "someone/odd-labels").text
    assert "| a\\|b | 0.50 |" in text and "| &lt;script&gt;x&lt;/script&gt; | 0.50 |" in text
    assert "<script>" not in text
