"""Whole documents in windows (windows_lmmlc.py): the split, the label stream and the pooled heads over every window."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer

from lmmlc import (
    BertForLabelMaskClassification,
    BertForMultiLabelClassification,
    LabelMaskConfig,
    MultiLabelBertConfig,
    max_text_length,
    windows_lmmlc,
)
from lmmlc.configuration_lmmlc import WHOLE_DOCUMENT_WINDOWS
from lmmlc.label_stream_lmmlc import encode_text
from lmmlc.windows_lmmlc import split_windows

from .conftest import LABELS
from .test_export import save, spread

LONG = "i love it so angry about this thing sad happy joy the a fear no yes i love it so sad the a"
"""23 words: windows of 8 tokens (6 of text each): 3 full ones and a last of 5 words."""


def settings(**options) -> LabelMaskConfig:
    config = LabelMaskConfig(label_names=LABELS, max_position_embeddings=64, pad_token_id=0, **options)
    return config


def test_split_windows_by_hand():
    config = settings(max_windows=3, text_window=6)
    cls, sep = 101, 102
    long = [cls, *range(1, 11), sep]  # body of 10 tokens: windows of 4, stride 4 -> 1-4, 5-8, 9-10
    short = [cls, 7, 8, sep] + [0] * 8
    ids = torch.tensor([long, short])
    mask = (torch.arange(12)[None, :] < torch.tensor([[12], [4]])).long()
    windows = split_windows(ids, mask, config)
    assert windows.count == 3
    assert windows.input_ids[:4].tolist() == [  # the unused windows' ids are masked out: any
        [cls, 1, 2, 3, 4, sep],
        [cls, 5, 6, 7, 8, sep],
        [cls, 9, 10, sep, 0, 0],
        [cls, 7, 8, sep, 0, 0],
    ]
    assert windows.attention_mask.sum(dim=1).tolist() == [6, 6, 4, 4, 0, 0]
    assert windows.used.tolist() == [True, True, True, True, False, False]
    assert windows.sources.tolist() == [
        [0, 1, 2, 3, 4, 11],
        [0, 5, 6, 7, 8, 11],
        [0, 9, 10, 11, -1, -1],
        [0, 1, 2, 3, -1, -1],
        [-1] * 6,
        [-1] * 6,
    ]
    assert windows.valid().shape == (2, 18) and windows.valid()[1].sum() == 4


def test_a_graph_keeps_a_short_batch_at_its_own_length(monkeypatch):
    """In an exported graph every batch takes the window path; one that fits a window is not padded to the window's
    size (a default model's graph would otherwise encode every short text at full size)."""
    monkeypatch.setattr(windows_lmmlc, "is_exporting", lambda: True)
    ids = torch.tensor([[101, 7, 8, 102]])
    windows = split_windows(ids, torch.ones_like(ids), settings(max_windows=3, text_window=6))
    assert windows.input_ids.tolist() == ids.tolist() and windows.count == 1
    assert windows.sources.tolist() == [[0, 1, 2, 3]]


def test_stride_overlaps_and_max_windows_caps():
    config = settings(max_windows=2, text_window=6, window_stride=2)
    ids = torch.tensor([[101, *range(1, 11), 102]])
    windows = split_windows(ids, torch.ones_like(ids), config)
    assert windows.input_ids.tolist() == [[101, 1, 2, 3, 4, 102], [101, 3, 4, 5, 6, 102]]
    assert max_text_length(config, 512) == 8  # what 2 windows of 6 with stride 2 cover: [CLS] 6 tokens [SEP]
    assert split_windows(ids[:, :6], torch.ones_like(ids[:, :6]), config) is None  # fits one window: as it is


def stream_model(bert_dir, **options):
    torch.manual_seed(0)
    return spread(BertForLabelMaskClassification.from_encoder(bert_dir, label_names=LABELS, **options))


def test_each_window_is_encoded_as_its_own_text(bert_dir):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir, max_windows=8, text_window=8).eval()
    batch = tokenizer([LONG, "sad"], padding=True, return_tensors="pt")
    text = model._encode_stream_text(batch["input_ids"], batch["attention_mask"], None, None)
    words = LONG.split()
    assert text.valid.shape == (2, 4 * 8) and text.valid[0].sum() == 23 + 2 * 4 and text.valid[1].sum() == 3
    second = tokenizer(" ".join(words[6:12]), return_tensors="pt")  # window 2 alone
    alone = encode_text(model.bert, second["input_ids"], second["attention_mask"])
    for layer in range(len(alone.keys)):
        assert torch.allclose(text.keys[layer][0, :, 8:16], alone.keys[layer][0], atol=1e-6)
        assert torch.allclose(text.values[layer][0, :, 8:16], alone.values[layer][0], atol=1e-6)
    assert text.lengths.tolist() == [8, 3]


def test_scores_do_not_depend_on_the_batch(bert_dir):
    """Unused windows of a shorter text (and padding) are masked: its scores alone and beside a long text agree."""
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    for model in (
        stream_model(bert_dir, max_windows=8, text_window=8).eval(),
        baseline_model(bert_dir).eval(),
    ):
        with torch.no_grad():
            both = model(**tokenizer([LONG, "so sad"], padding=True, return_tensors="pt")).logits
            alone = model(**tokenizer(["so sad"], return_tensors="pt")).logits
            long_alone = model(**tokenizer([LONG], return_tensors="pt")).logits
        assert torch.allclose(both[1], alone[0], atol=1e-5)
        assert torch.allclose(both[0], long_alone[0], atol=1e-5)


def test_the_end_of_a_long_text_changes_its_scores(bert_dir):
    """Past the first window the text is read (with max_windows=1 it is cut, and its end changes nothing)."""
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    cut, whole = (
        stream_model(bert_dir, max_windows=1).eval(),
        stream_model(bert_dir, max_windows=8, text_window=8).eval(),
    )
    a, b = LONG + " happy joy joy", LONG + " fear fear no"
    for model, moves in ((whole, True), (cut, False)):
        length = max_text_length(model.config, 8) if model is cut else max_text_length(model.config, 512)
        with torch.no_grad():
            enc = [tokenizer([t], truncation=True, max_length=length, return_tensors="pt") for t in (a, b)]
            la, lb = (model(**e).logits for e in enc)
        assert (not torch.allclose(la, lb, atol=1e-4)) == moves


def test_rounds_read_every_window(bert_dir):
    """Decoding in rounds reruns the labels over every window: its first round is the forward pass, and a text's end
    past the first window changes the decided probabilities."""
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    options = {"max_windows": 8, "text_window": 8, "label_stream_attention": "revealed_positions"}
    model = stream_model(bert_dir, **options).eval()
    a, b = (tokenizer([LONG + end], return_tensors="pt") for end in (" happy joy joy", " fear fear no"))
    with torch.no_grad():
        rounds = [model.decode(**batch, strategy="confidence", margin=0.0) for batch in (a, b)]
        one_pass = torch.sigmoid(model(**a).logits)
    assert torch.allclose(model.decode(**a, strategy="one_shot").probs, one_pass, atol=1e-5)
    assert (rounds[0].rounds == len(LABELS)).all()
    assert not torch.allclose(rounds[0].probs, rounds[1].probs, atol=1e-4)


def baseline_model(bert_dir, **options):
    torch.manual_seed(0)
    options = {"max_windows": 8, "text_window": 8, **options}
    return spread(BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS, **options))


@pytest.mark.parametrize("pooling", ["mean", "layer_weighted", "cls"])
def test_baseline_pools_over_every_window(bert_dir, pooling):
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = baseline_model(bert_dir, pooling=pooling).eval()
    batch = tokenizer([LONG], return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
        words = LONG.split()
        pieces = [tokenizer([" ".join(words[i : i + 6])], return_tensors="pt") for i in range(0, len(words), 6)]
        outs = [model.bert(**p, output_hidden_states=True) for p in pieces]
        if pooling == "cls":
            pooled = torch.stack([o.pooler_output[0] for o in outs]).mean(dim=0)
        else:
            layers = range(len(outs[0].hidden_states)) if pooling == "layer_weighted" else [-1]
            means = torch.stack([torch.cat([o.hidden_states[i][0] for o in outs]).mean(dim=0) for i in layers])
            weights = torch.softmax(model.layer_pool.layer_weights, 0) if pooling == "layer_weighted" else [1.0]
            pooled = sum(w * m for w, m in zip(weights, means, strict=True))
        expected = model.classifier(pooled)
    assert torch.allclose(logits[0], expected, atol=1e-5)


def test_windows_train_end_to_end(bert_dir):
    """Training reads every window: gradients reach the encoder from a loss on a long text."""
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir, max_windows=8, text_window=8).train()
    batch = tokenizer([LONG, "sad"], padding=True, return_tensors="pt")
    loss = model(**batch, labels=torch.tensor([[1.0, 0, 0, 1], [0, 0, 1, 0]])).loss
    loss.backward()
    assert torch.isfinite(loss) and model.bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_bad_window_settings_are_refused(bert_dir):
    with pytest.raises(ValueError, match="text_window=80"):
        settings(max_windows=2, text_window=80)
    with pytest.raises(ValueError, match="window_stride=7"):
        settings(max_windows=2, text_window=8, window_stride=7)
    with pytest.raises(ValueError, match="max_windows must be >= 1"):
        settings(max_windows=0)
    with pytest.raises(ValueError, match="needs the label stream"):
        settings(max_windows=2, label_stream=False)
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = stream_model(bert_dir, max_windows=2, text_window=8)
    too_long = tokenizer([LONG], return_tensors="pt")
    with pytest.raises(ValueError, match="reads at most 14"):
        model(**too_long)
    with pytest.raises(ValueError, match="Joint MLM"):
        model(**tokenizer(["i love it so angry about this thing"], return_tensors="pt"), mlm_targets=torch.zeros(1, 10))


def test_a_new_model_reads_whole_documents_by_default(tmp_path):
    """NOTEBOOK 9 chose `WHOLE_DOCUMENT_WINDOWS` for a new model; joint MLM and a single sequence read one window, and
    a config.json written before windows existed (schema version, no `max_windows`) keeps reading one."""
    assert settings().max_windows == WHOLE_DOCUMENT_WINDOWS == 8
    assert MultiLabelBertConfig(label_names=LABELS).max_windows == 8
    assert MultiLabelBertConfig(label_names=LABELS, mlm_loss_weight=0.5).max_windows == 1
    assert settings(label_stream=False).max_windows == 1
    saved = settings().to_dict()
    del saved["max_windows"]
    assert LabelMaskConfig(**saved).max_windows == 1
    assert LabelMaskConfig(**{**saved, "max_windows": 8}).max_windows == 8
    settings().save_pretrained(tmp_path)  # written, so a reload does not take it for an old config
    assert LabelMaskConfig.from_pretrained(tmp_path).max_windows == 8


@pytest.mark.parametrize("kind", ["stream", "baseline"])
def test_a_windowed_model_round_trips_and_exports_to_onnx(bert_dir, tmp_path, kind):
    """Saved and loaded, and its ONNX graph (symbolic window count) scoring short and long texts as torch does."""
    from lmmlc.evaluation import load_trained
    from lmmlc.export import export_model
    from lmmlc.onnx import OnnxModelForMultiLabelClassification

    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    model = (stream_model if kind == "stream" else baseline_model)(bert_dir, max_windows=8, text_window=8).eval()
    folder = save(model, tokenizer, tmp_path / "windows", [0.5] * len(LABELS))
    loaded, _ = load_trained(str(folder))
    assert loaded.config.windows() == (8, 6, 8)
    export_model(str(folder), quantize="int8")
    graph, _ = OnnxModelForMultiLabelClassification.from_pretrained(str(folder), "onnx")
    int8, _ = OnnxModelForMultiLabelClassification.from_pretrained(str(folder), "onnx-int8")
    for texts in (["sad"], [LONG, "so sad"], [LONG + " " + LONG]):
        batch = tokenizer(texts, padding=True, truncation=True, max_length=50, return_tensors="pt")
        with torch.no_grad():
            expected = model(**batch).logits
            assert torch.allclose(loaded(**batch).logits, expected, atol=1e-6)
        assert torch.allclose(torch.as_tensor(graph(**batch).logits), expected, atol=1e-4)
        assert torch.allclose(torch.as_tensor(int8(**batch).logits), expected, atol=0.5)
