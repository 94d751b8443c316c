"""Per-label evidence (evidence_lmmlc.py): gradient x input weights, mapped back through windows, merged into spans."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer

from lmmlc import BertForLabelMaskClassification, BertForMultiLabelClassification, MultiLabelClassificationPipeline
from lmmlc.evidence_lmmlc import token_evidence
from lmmlc.pipeline_lmmlc import evidence_spans

from .conftest import LABELS
from .test_export import spread
from .test_windows_lmmlc import LONG


def models(bert_dir):
    torch.manual_seed(0)
    yield "stream", spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS))
    torch.manual_seed(0)
    yield (
        "windows",
        spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS, max_windows=8, text_window=8)),
    )
    torch.manual_seed(0)
    yield (
        "baseline windows",
        spread(
            BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS, max_windows=8, text_window=8)
        ),
    )
    torch.manual_seed(0)
    yield (
        "single sequence",
        spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS, label_stream=False)),
    )


def gated_logits(model, batch, label: int, row: int, token: int, scale: float) -> float:
    """The label's logit with one input token's word embedding scaled by `scale`, in whatever rows (windows) the
    model reads it: found by its id, which the test texts hold once."""
    original, calls = batch["input_ids"][row, token].item(), []

    def scaled(module, args, output):
        calls.append(1)
        if len(calls) > 1:  # the text is embedded first; label tokens after it
            return output
        return torch.where((args[0] == original)[..., None], output * scale, output)

    handle = model.get_input_embeddings().register_forward_hook(scaled)
    try:
        with torch.no_grad():
            return model(**batch).logits[row, label].item()
    finally:
        handle.remove()


@pytest.mark.parametrize("kind", ["stream", "windows", "baseline windows", "single sequence"])
def test_weights_are_the_first_order_change_of_the_logit(bert_dir, kind):
    model = dict(models(bert_dir))[kind].eval()
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    text = "i love it so angry about this thing sad happy joy the a fear no yes" if kind != "stream" else "sad joy"
    batch = tokenizer([text, "fear"], padding=True, return_tensors="pt")
    labels = torch.tensor([[0, 2], [1, 3]])
    weights = token_evidence(model, batch["input_ids"], batch["attention_mask"], labels)
    assert weights.shape == (2, 2, batch["input_ids"].shape[1])
    assert not weights[1, :, batch["attention_mask"][1] == 0].any()  # padding carries nothing
    eps = 1e-3
    for token in (1, batch["attention_mask"][0].sum().item() - 2):  # the first word, and the last (a later window)
        for j, label in enumerate(labels[0].tolist()):
            up = gated_logits(model, batch, label, 0, token, 1 + eps)
            down = gated_logits(model, batch, label, 0, token, 1 - eps)
            assert (up - down) / (2 * eps) == pytest.approx(weights[0, j, token].item(), abs=2e-3, rel=2e-2)


def test_spans_merge_neighbouring_words_and_rank_by_weight():
    text = "very happy day but sad ending"
    offsets = [(0, 0), (0, 4), (5, 8), (8, 10), (11, 14), (15, 18), (19, 22), (23, 29), (0, 0)]
    words = [None, 0, 1, 1, 2, 3, 4, 5, None]  # "happy" is two tokens
    weights = torch.tensor([9.0, 0.5, 1.0, 1.0, -0.5, -0.1, 1.5, -1.0, 9.0])
    spans = evidence_spans(weights, offsets, words, text, top=2)
    assert [s["text"] for s in spans] == ["very happy", "sad"]
    assert spans[0]["weight"] == pytest.approx(2.5 / 5.6, abs=1e-4) and spans[1]["start"] == 19


def test_the_pipeline_returns_evidence_spans(bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = dict(models(bert_dir))["windows"].eval()
    classifier = MultiLabelClassificationPipeline(model=model, tokenizer=tokenizer)
    results = classifier(LONG, top_k=2, evidence=3)
    plain = classifier(LONG, top_k=2)
    assert [r["label"] for r in results] == [r["label"] for r in plain]
    for result in results:
        assert 1 <= len(result["evidence"]) <= 3
        for span in result["evidence"]:
            assert LONG[span["start"] : span["end"]] == span["text"] and span["weight"] > 0
    with pytest.raises(ValueError, match="positive int"):
        classifier(LONG, evidence=0)
    with pytest.raises(ValueError, match="batch_size at 1"):
        classifier([LONG, LONG], evidence=2, batch_size=2)
