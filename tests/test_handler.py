"""`handler.py` (lmmlc-push uploads it): the Inference Endpoints handler on a saved folder, payloads good and bad."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from lmmlc.handler import EndpointHandler
from lmmlc.push import PushArguments, push

from .conftest import BLOCK_LMMLC, LABELS
from .test_export import TEXTS, save, spread


@pytest.fixture(scope="module")
def folder(tmp_path_factory, bert_dir, tokenizer):
    """A saved label-stream model with tuned thresholds, with the handler lmmlc-push writes beside it."""
    from lmmlc import BertForLabelMaskClassification

    model = spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS))
    path = save(model, tokenizer, tmp_path_factory.mktemp("handler") / "model", [0.3, 0.5, 0.7, 0.5])
    push(PushArguments(str(path), "me/model", dry_run=True))
    return path


@pytest.fixture(scope="module")
def handler(folder):
    return EndpointHandler(str(folder))


def assert_same(got: list, expected: list) -> None:
    """Equal labels in the same order, scores equal up to batching (padding changes float sums)."""
    assert [r["label"] for r in got] == [r["label"] for r in expected]
    assert [r["score"] for r in got] == pytest.approx([r["score"] for r in expected], abs=1e-5)


def test_one_text_gives_its_predicted_labels_as_the_pipeline_does(handler):
    got = handler({"inputs": TEXTS[0]})
    assert got == handler.classifier(TEXTS[0])
    assert all(set(r) == {"label", "score"} for r in got)


def test_a_list_gives_one_result_per_text(handler):
    got = handler({"inputs": TEXTS})
    assert len(got) == len(TEXTS)
    for row, text in zip(got, TEXTS, strict=True):
        assert_same(row, handler.classifier(text))


def test_threshold_and_top_k_parameters(handler):
    every = handler({"inputs": TEXTS[1], "parameters": {"top_k": None}})
    assert sorted(r["label"] for r in every) == sorted(LABELS)
    assert [r["label"] for r in handler({"inputs": TEXTS[1], "parameters": {"top_k": 2}})] == [
        r["label"] for r in every[:2]
    ]
    low = handler({"inputs": TEXTS[1], "parameters": {"threshold": 0.01}})
    assert [r["label"] for r in low] == [r["label"] for r in every]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("just a text", 'JSON object with "inputs"'),
        ({"text": "hi"}, 'JSON object with "inputs"'),
        ({"inputs": "hi", "options": {}}, "Unknown request field"),
        ({"inputs": []}, "1 to 1024 texts"),
        ({"inputs": ["hi", "  "]}, "at index 1 must be a non-empty text"),
        ({"inputs": ["hi", 3]}, "at index 1 must be a non-empty text"),
        ({"inputs": ""}, "must be a non-empty text"),
        ({"inputs": "hi", "parameters": {"threshold": 1.5}}, "strictly between 0 and 1"),
        ({"inputs": "hi", "parameters": {"threshold": "high"}}, "must be a number"),
        ({"inputs": "hi", "parameters": {"top_k": 0}}, "positive integer"),
        ({"inputs": "hi", "parameters": {"top_k": True}}, "positive integer"),
        ({"inputs": "hi", "parameters": {"temperature": 2}}, "Unknown parameter"),
        ({"inputs": "hi", "parameters": [1]}, "must be an object"),
    ],
)
def test_a_bad_payload_gets_a_clear_error_before_scoring(handler, payload, message, monkeypatch):
    monkeypatch.setattr(handler, "classifier", None)  # nothing may be scored
    with pytest.raises(ValueError, match=message):
        handler(payload)


def test_the_uploaded_handler_serves_the_folder_without_lmmlc_installed(folder):
    script = BLOCK_LMMLC + textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(folder)!r})
        from handler import EndpointHandler
        handler = EndpointHandler({str(folder)!r})
        print(json.dumps(handler({{"inputs": ["i love it", "sad"], "parameters": {{"top_k": None}}}})))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    expected = EndpointHandler(str(folder))({"inputs": ["i love it", "sad"], "parameters": {"top_k": None}})
    for row, reference in zip(rows, expected, strict=True):
        assert_same(row, reference)
