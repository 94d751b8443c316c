"""`MultiLabelClassificationPipeline`: local registration, remote loading from a saved folder, options."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import pipeline

from lmmlc import BertForMultiLabelClassification, MultiLabelClassificationPipeline

from .conftest import BLOCK_LMMLC, LABELS

TEXTS = ["i love it", "so angry about this thing", "sad", "happy joy the a it so i love"]


@pytest.fixture
def classifier(make_model, tokenizer):
    model = make_model(decode_strategy="confidence").eval()
    with torch.no_grad():  # spread the probabilities over (0, 1)
        generator = torch.Generator().manual_seed(1)
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.5)
    model.config.label_thresholds = [0.3, 0.5, 0.7, 0.5]
    return pipeline("multi-label-classification", model=model, tokenizer=tokenizer)


def test_every_label_with_a_score_and_the_same_as_decode(classifier, tokenizer):
    assert isinstance(classifier, MultiLabelClassificationPipeline)
    results = classifier(TEXTS, top_k=None)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    expected = classifier.model.decode(**batch).probs  # the config's strategy (confidence) and thresholds
    for result, probs in zip(results, expected, strict=True):
        assert sorted(r["label"] for r in result) == sorted(LABELS)
        assert all(0.0 <= r["score"] <= 1.0 for r in result)
        assert [r["score"] for r in result] == sorted((r["score"] for r in result), reverse=True)
        scores = {r["label"]: r["score"] for r in result}
        assert [scores[name] for name in LABELS] == pytest.approx(probs.tolist(), abs=1e-5)


def test_default_returns_the_labels_at_or_above_their_thresholds(classifier):
    thresholds = dict(zip(LABELS, [0.3, 0.5, 0.7, 0.5], strict=True))
    for full, predicted in zip(classifier(TEXTS, top_k=None), classifier(TEXTS), strict=True):
        assert predicted == [r for r in full if r["score"] >= thresholds[r["label"]]]
    assert all(len(r) == 4 for r in classifier(TEXTS, threshold=1e-6))
    assert all(len(r) == 2 for r in classifier(TEXTS, top_k=2))


def test_batched_equals_one_by_one(classifier):
    one_by_one = [classifier(text, top_k=None) for text in TEXTS]
    batched = classifier(TEXTS, top_k=None, batch_size=3)
    for a, b in zip(one_by_one, batched, strict=True):
        assert [r["label"] for r in a] == [r["label"] for r in b]
        assert [r["score"] for r in a] == pytest.approx([r["score"] for r in b], abs=1e-5)


def test_progress_bar_over_a_list(classifier, capsys):
    classifier(TEXTS * 3, batch_size=2, progress=True)
    assert "Classifying" in capsys.readouterr().err


def test_baseline_model(bert_dir, tokenizer):
    model = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS).eval()
    classifier = pipeline("multi-label-classification", model=model, tokenizer=tokenizer)
    result = classifier("i love it", top_k=None)
    expected = torch.sigmoid(model(**tokenizer("i love it", return_tensors="pt")).logits)[0]
    assert {r["label"]: r["score"] for r in result} == pytest.approx(
        dict(zip(LABELS, expected.tolist(), strict=True)), abs=1e-6
    )
    with pytest.raises(ValueError, match="need a label-mask model"):
        classifier("i love it", strategy="confidence")


@pytest.mark.parametrize(
    ("options", "error"),
    [({"top_k": 0}, "positive int"), ({"threshold": 1.5}, "strictly between"), ({"colour": 1}, "Unknown option")],
)
def test_bad_options(classifier, options, error):
    with pytest.raises((ValueError, TypeError), match=error):
        classifier("i love it", **options)


def test_non_text_input_is_refused(classifier):
    with pytest.raises(TypeError, match="Expected a text"):
        classifier([{"text": "i love it"}])


REMOTE_PIPELINE = BLOCK_LMMLC + textwrap.dedent(
    """
    import json
    from transformers import pipeline

    classifier = pipeline(model=sys.argv[1], trust_remote_code=True)
    assert type(classifier).__module__.startswith("transformers_modules"), type(classifier).__module__
    print(json.dumps(classifier(json.loads(sys.argv[2]), top_k=None)))
    """
)


def test_pipeline_from_a_saved_folder_with_remote_code_only(classifier, tmp_path):
    folder = tmp_path / "model"
    classifier.model.save_pretrained(folder)
    classifier.tokenizer.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    assert config["custom_pipelines"]["multi-label-classification"]["impl"] == (
        "pipeline_lmmlc.MultiLabelClassificationPipeline"
    )
    script = tmp_path / "check.py"
    script.write_text(REMOTE_PIPELINE)
    result = subprocess.run(
        [sys.executable, str(script), str(folder), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    remote = json.loads(result.stdout.strip().splitlines()[-1])
    local = classifier(TEXTS, top_k=None)
    for a, b in zip(local, remote, strict=True):
        assert [r["label"] for r in a] == [r["label"] for r in b]
        assert [r["score"] for r in a] == pytest.approx([r["score"] for r in b], abs=1e-6)


def test_a_dict_is_refused_not_read_as_its_keys(classifier):
    with pytest.raises(TypeError, match="Got a dict: pass a text"):
        classifier({"text": "i love it"})


def test_a_tokenizer_that_is_not_the_models_is_refused(make_model, bert_dir_no_unused):
    from transformers import AutoTokenizer

    with pytest.raises(ValueError, match="does not belong to its model: it has 27 tokens"):
        pipeline(
            "multi-label-classification",
            model=make_model(),
            tokenizer=AutoTokenizer.from_pretrained(bert_dir_no_unused),
        )


def test_a_model_without_tuned_thresholds_says_so(make_model, tokenizer):
    from transformers.testing_utils import CaptureLogger

    from lmmlc import pipeline_lmmlc

    with CaptureLogger(pipeline_lmmlc.logger) as captured:
        pipeline("multi-label-classification", model=make_model().eval(), tokenizer=tokenizer)
    assert "holds no tuned thresholds" in captured.out and "predicted at 0.5" in captured.out
    tuned = make_model().eval()
    tuned.config.label_thresholds = [0.5] * len(LABELS)
    with CaptureLogger(pipeline_lmmlc.logger) as captured:
        pipeline("multi-label-classification", model=tuned, tokenizer=tokenizer)
    assert "tuned thresholds" not in captured.out


def test_bytes_and_blank_texts_are_refused_as_lmmlc_predict_refuses_them(classifier):
    with pytest.raises(TypeError, match="Got bytes: decode them"):
        classifier(b"i love it")
    for blank in ("", "   "):
        with pytest.raises(ValueError, match="empty or blank text"):
            classifier(blank)
    with pytest.raises(ValueError, match="empty or blank text"):
        classifier(["i love it", ""])
