import pytest
import torch

from lmmlc import BertForLabelMaskClassification, DataCollatorForLabelMask
from lmmlc.configuration_lmmlc import RANKER_SCORE_WEIGHT
from lmmlc.label_stream_lmmlc import group_labels
from lmmlc.template_lmmlc import LEGACY_MASKS, show_labels, text_blind_attention_mask

from .conftest import LABELS

TEXTS = ["i love it", "so angry about this thing the a", "sad", "happy joy"]
ROWS = [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]


def single_sequence_logits(model, tokenizer, texts, state=None):
    """Logits of `[CLS] text [SEP] template` run by the stock BertModel with the text-blind 4D mask."""
    template, offsets, _ = model.config.template_token_ids()
    rows = []
    for i, text in enumerate(texts):
        ids = tokenizer(text)["input_ids"]
        length = len(ids)
        sequence = torch.tensor([ids + template])
        slots = torch.tensor([offsets]) + length
        if state is not None:
            sequence = show_labels(sequence, slots, state[i : i + 1], model.config)
        types = torch.tensor([[0] * length + [1] * len(template)])
        in_template = torch.arange(sequence.shape[1])[None, :] >= length
        mask = text_blind_attention_mask(torch.ones_like(sequence), in_template, torch.float32, additive=False)
        mask = mask[:, 0].float() if LEGACY_MASKS else mask  # transformers 4.x takes (batch, seq, seq) 0/1
        hidden = model.bert(input_ids=sequence, token_type_ids=types, attention_mask=mask).last_hidden_state
        rows.append(model._slot_logits(hidden[0, slots[0]]))
    return torch.stack(rows)


@pytest.fixture
def stream_model(make_model):
    """Prompt tokens name each label, so reveals and rounds work with `revealed` attention."""
    return make_model(
        label_stream=True, label_group_size=len(LABELS), prompt_tokens_before=1, prompt_tokens_after=1
    ).eval()


def test_stream_equals_the_single_sequence_text_blind_forward(make_model, tokenizer):
    """With one label (prompt tokens around its slot) the stream's layout is the single sequence's."""
    stream_model = make_model(["joy"], label_stream=True, prompt_tokens_before=1, prompt_tokens_after=1).eval()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        stream = stream_model(**batch).logits
        expected = single_sequence_logits(stream_model, tokenizer, TEXTS)
        torch.testing.assert_close(stream, expected, atol=1e-5, rtol=1e-5)


def test_gradients_reach_the_text_through_the_stream(stream_model, tokenizer):
    stream_model.train()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    stream_model(**batch, labels=torch.tensor(ROWS, dtype=torch.float)).loss.backward()
    grad = stream_model.bert.get_input_embeddings().weight.grad
    text_only = tokenizer.convert_tokens_to_ids(["love", "angry", "sad", "joy"])  # appear only in the texts
    assert (grad[text_only].abs().sum(dim=1) > 0).all()


def test_a_masked_label_ignores_which_labels_share_its_group(make_model, tokenizer):
    """Default attention ("revealed"): grouping and sampling cannot change a masked label's score."""
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        whole = make_model(label_stream=True, label_group_size=4).eval()(**batch).logits
        model = make_model(label_stream=True, label_group_size=2, label_shortlist_size=0).eval()  # the stream alone
        torch.testing.assert_close(model(**batch).logits, whole, atol=1e-5, rtol=1e-5)
        sampled = model(**batch, candidate_ids=torch.tensor([[0, 2, 3]] * 4)).logits
        torch.testing.assert_close(sampled, whole[:, [0, 2, 3]], atol=1e-5, rtol=1e-5)
        shown = model(**batch, candidate_ids=torch.tensor([[0, 2]] * 4), candidate_state=torch.tensor([[1, -1]] * 4))
    assert not torch.allclose(shown.logits[:, 1], whole[:, 2], atol=1e-4)  # a revealed label is seen


def test_revealed_positions_name_a_label_by_its_position_and_ignore_masked_labels(make_model, tokenizer):
    """`revealed_positions`: each label has a position of its own, whatever is sampled with it, and a label still
    sees only the revealed labels."""
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    model = make_model(label_stream=True, label_stream_attention="revealed_positions").eval()
    assert model.config.revealed_labels_identifiable
    with torch.no_grad():
        whole = model(**batch).logits
        reordered = model(**batch, candidate_ids=torch.tensor([[0, 1, 3, 2]] * 4)).logits
        sampled = model(**batch, candidate_ids=torch.tensor([[0, 2, 3]] * 4)).logits
        first_shown = model(**batch, candidate_state=torch.tensor([[-1, 1, -1, -1]] * 4)).logits
        second_shown = model(**batch, candidate_state=torch.tensor([[-1, -1, 1, -1]] * 4)).logits
        shared = make_model(label_stream=True).eval()(**batch).logits  # every label at the same positions
    torch.testing.assert_close(reordered, whole[:, [0, 1, 3, 2]], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(sampled, whole[:, [0, 2, 3]], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(first_shown[:, 0], whole[:, 0], atol=1e-4)  # a revealed label is seen
    assert not torch.allclose(first_shown[:, 0], second_shown[:, 0], atol=1e-4)  # and told apart by its position
    assert not torch.allclose(shared[:, 1:], whole[:, 1:], atol=1e-4)


def test_chunked_inference_equals_one_pass(make_model, tokenizer, monkeypatch):
    import lmmlc.label_stream_lmmlc as modeling

    model = make_model(label_stream=True, label_group_size=1).eval()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        whole = model(**batch).logits
        monkeypatch.setattr(modeling, "STREAM_CHUNK_TOKENS", 3)  # one group per chunk
        chunked = model(**batch).logits
    torch.testing.assert_close(whole, chunked, atol=1e-6, rtol=1e-6)


def test_group_padding():
    ids, state, example = group_labels(torch.tensor([[4, 5, 6], [7, 8, 9]]), None, 2)
    assert ids.tolist() == [[4, 5], [6, -1], [7, 8], [9, -1]]
    assert (state == -1).all() and example.tolist() == [0, 0, 1, 1]


def features(tokenizer, rows):
    return [{**tokenizer(text), "labels": row} for text, row in zip(TEXTS, rows, strict=True)]


def test_sampling_keeps_every_positive(stream_model, tokenizer):
    names = [f"l{i}" for i in range(40)]
    config = type(stream_model.config)(label_names=names, label_stream=True)
    rows = [[int(j % (3 + i) == 0) for j in range(40)] for i in range(4)]
    collator = DataCollatorForLabelMask(tokenizer, config, label_sample_size=8, seed=1, reveal_strategy="none")
    for _ in range(5):
        batch = collator(features(tokenizer, rows))
        ids, targets = batch["candidate_ids"], batch["labels"]
        most = max(sum(r) for r in rows)
        assert ids.shape == targets.shape == (4, max(8, most))
        for i, row in enumerate(rows):
            assert set(ids[i].tolist()) >= {j for j, v in enumerate(row) if v}
            assert targets[i].tolist() == [row[j] for j in ids[i].tolist()]
            assert ids[i].tolist() == sorted(set(ids[i].tolist()))


def test_reveals_within_the_sample_are_inputs_not_targets(stream_model, tokenizer):
    config = type(stream_model.config)(
        label_names=[f"l{i}" for i in range(12)], label_stream=True, prompt_tokens_before=1, prompt_tokens_after=1
    )
    collator = DataCollatorForLabelMask(
        tokenizer, config, label_sample_size=6, reveal_strategy="random", reveal_example_prob=1.0, seed=0
    )
    rows = [[1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]] * 4
    batch = collator(features(tokenizer, rows))
    state, targets = batch["candidate_state"], batch["labels"]
    assert state.shape == targets.shape == (4, 6)
    assert ((state >= 0) == (targets == -100)).all() and (state >= 0).any(dim=1).all()
    assert ((targets != -100).sum(dim=1) >= 1).all()


def test_decoding_in_rounds_shows_earlier_decisions(stream_model, tokenizer):
    batch = tokenizer(TEXTS[:2], padding=True, return_tensors="pt")
    order = [2, 0, 3, 1]
    out = stream_model.decode(**batch, strategy="fixed", order=order, thresholds=0.5)
    state = torch.full((2, 4), -1)
    with torch.no_grad():
        for label in order:
            p = torch.sigmoid(stream_model(**batch, candidate_state=state).logits)
            torch.testing.assert_close(out.probs[:, label], p[:, label], atol=1e-6, rtol=1e-6)
            state[:, label] = (p[:, label] >= 0.5).long()
    one_shot = stream_model.decode(**batch, strategy="one_shot").probs
    torch.testing.assert_close(one_shot, torch.sigmoid(stream_model(**batch).logits), atol=1e-6, rtol=1e-6)


def test_two_thousand_labels_train_and_predict(bert_dir, tokenizer):
    names = [f"tag{i}" for i in range(2000)]
    torch.manual_seed(0)
    model = BertForLabelMaskClassification.from_encoder(
        bert_dir, label_names=names, mask_mode="per_label", prompt_tokens_before=0, prompt_tokens_after=0
    )
    assert model.config.label_stream  # chosen: 2000 labels never fit one sequence of 64 positions
    assert model.ranker is not None and model.config.ranker_score_weight == RANKER_SCORE_WEIGHT  # past one group
    collator = DataCollatorForLabelMask(tokenizer, model.config, label_sample_size=16, reveal_strategy="none", seed=0)
    rows = [[int(j in (i, 1000 + i, 1999)) for j in range(2000)] for i in range(4)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(3):
        loss = model(**collator(features(tokenizer, rows))).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss))
    assert all(torch.isfinite(torch.tensor(losses)))
    model.eval()
    probs = model.decode(**tokenizer(TEXTS, padding=True, return_tensors="pt")).probs
    assert probs.shape == (4, 2000) and torch.isfinite(probs).all()


def test_bad_stream_options_are_refused_before_any_work(make_model, tokenizer, stream_model):
    with pytest.raises(ValueError, match="label_group_size must be >= 1"):
        make_model(label_stream=True, label_group_size=0)
    with pytest.raises(ValueError, match="label_sample_size must be >= 1"):
        DataCollatorForLabelMask(tokenizer, stream_model.config, label_sample_size=0)
    with pytest.raises(ValueError, match="needs the label stream"):
        DataCollatorForLabelMask(tokenizer, make_model(label_stream=False).config, label_sample_size=2)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with pytest.raises(ValueError, match=r"candidate_ids must lie in 0\.\.3"):
        stream_model(**batch, candidate_ids=torch.tensor([[0, 4]] * 4))


def test_labels_in_the_top_layer_only_enter_it_from_the_embeddings(make_model, tokenizer):
    from lmmlc.label_stream_lmmlc import attention_bias, encode_text, label_group_inputs, layer_step, template_table

    model = make_model(label_stream=True, label_stream_layers=1).eval()
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
        text = encode_text(model.bert, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        ids = torch.arange(4).expand(4, 4)
        table = template_table(model.config, ids.device)
        inputs, slots = label_group_inputs(model.config, table, ids, torch.full_like(ids, -1), text.lengths)
        hidden = model.bert.embeddings(
            input_ids=inputs["input_ids"], token_type_ids=inputs["token_type_ids"], position_ids=inputs["position_ids"]
        )
        size = inputs["attends"].shape[1]
        valid = torch.cat([text.valid[:, None, :].expand(-1, size, -1), inputs["attends"]], dim=2)
        last = model.bert.encoder.layer[-1]
        bias = attention_bias(valid, hidden.dtype)
        hidden, _, _ = layer_step(last, hidden, (text.keys[-1], text.values[-1]), bias, slots)
        torch.testing.assert_close(logits, model._slot_logits(hidden), atol=1e-5, rtol=1e-5)
        full = make_model(label_stream=True).eval()
        assert not torch.allclose(logits, full(**batch).logits, atol=1e-4)
    with pytest.raises(ValueError, match=r"label_stream_layers=3: give 1\.\.2"):
        make_model(label_stream=True, label_stream_layers=3)


def test_pipeline_scores_every_label_with_the_stream(make_model, tokenizer):
    from transformers import pipeline

    model = make_model(label_stream=True, label_group_size=3).eval()
    classifier = pipeline("multi-label-classification", model=model, tokenizer=tokenizer)
    results = classifier(TEXTS, top_k=None)
    with torch.no_grad():
        expected = torch.sigmoid(model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits)
    for result, probs in zip(results, expected, strict=True):
        scores = {r["label"]: r["score"] for r in result}
        assert [scores[name] for name in LABELS] == pytest.approx(probs.tolist(), abs=1e-5)
    assert all(len(r) == 2 for r in classifier(TEXTS, top_k=2))


@pytest.mark.parametrize("trained_as", [False, True])
def test_a_checkpoint_trained_one_way_loads_and_predicts_the_other(make_model, tokenizer, tmp_path, trained_as):
    make_model(label_stream=trained_as).save_pretrained(tmp_path)
    other = BertForLabelMaskClassification.from_pretrained(tmp_path, label_stream=not trained_as).eval()
    assert other.config.label_stream is (not trained_as)
    with torch.no_grad():
        probs = other.decode(**tokenizer(TEXTS, padding=True, return_tensors="pt")).probs
    assert probs.shape == (4, 4) and torch.isfinite(probs).all()


def test_stream_options_need_the_stream_and_old_configs_stay_single_sequence(make_model):
    with pytest.raises(ValueError, match="label_stream_layers needs label_stream=True"):
        make_model(label_stream=False, label_stream_layers=1)
    saved = make_model(label_stream=False).config.to_dict()
    del saved["label_stream"]  # a config written before the stream existed, with few text tokens left
    saved["max_position_embeddings"] = 24  # 4 labels x 3 tokens + 3 leave 9 text tokens (< 32)
    config = type(make_model().config).from_dict(saved)
    assert config.label_stream is False


def test_running_out_of_memory_says_what_to_change(stream_model, tokenizer, monkeypatch):
    import lmmlc.label_stream_lmmlc as stream

    def fail(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 99 GB")

    monkeypatch.setattr(stream, "run_label_stream", fail)
    with pytest.raises(RuntimeError, match=r"4 labels for each of 4 examples in groups of 4.*--label_sample_size"):
        stream_model(**tokenizer(TEXTS, padding=True, return_tensors="pt"))


def test_reveals_and_rounds_are_refused_where_revealed_labels_are_anonymous(make_model, tokenizer):
    model = make_model(label_stream=True)  # one token per label, every label at the same positions
    assert not model.config.revealed_labels_identifiable
    batch = tokenizer(TEXTS[:2], padding=True, return_tensors="pt")
    fixes = r"cannot be told apart.*revealed_positions.*configs/rounds.yaml.*--prompt_tokens_before 1"
    with pytest.raises(ValueError, match=fixes):
        DataCollatorForLabelMask(tokenizer, model.config, reveal_strategy="random")
    with pytest.raises(ValueError, match=r"strategy='confidence'.*cannot be told apart"):
        model.decode(**batch, strategy="confidence")
    with pytest.raises(ValueError, match=r"decode_strategy='fixed'.*cannot be told apart"):
        type(model.config)(label_names=LABELS, label_stream=True, decode_strategy="fixed")
    assert model.decode(**batch, strategy="one_shot").probs.shape == (2, len(LABELS))
    for fix in (
        {"prompt_tokens_before": 1},
        {"token_type_strategy": "per_label"},
        {"label_stream_attention": "revealed_positions"},
    ):
        assert type(model.config)(label_names=LABELS, label_stream=True, **fix).revealed_labels_identifiable


def test_the_pooled_head_learns_every_label_beside_the_sampled_stream_loss(make_model, tokenizer):
    from lmmlc.losses_lmmlc import multilabel_loss

    names = [f"l{i}" for i in range(10)]
    no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "classifier_dropout": 0.0}
    model = make_model(names, label_stream=True, pooled_text_head=True, label_shortlist_size=0, **no_dropout)
    rows = [[1] + [0] * 9, [1, 1] + [0] * 8, [0, 0, 1] + [0] * 7, [0] * 9 + [1]]
    batch = DataCollatorForLabelMask(tokenizer, model.config, label_sample_size=4, reveal_strategy="none", seed=0)(
        features(tokenizer, rows)
    )
    assert batch["ranker_targets"].tolist() == rows  # the head's every-label targets
    torch.manual_seed(0)
    torch.nn.init.normal_(model.text_head.weight)
    model.train()
    loss = model(**batch).loss
    plain = {k: v for k, v in batch.items() if k not in ("labels", "ranker_targets")}
    logits = model(**plain).logits
    text = {k: batch[k] for k in ("input_ids", "attention_mask")}
    head = model.text_head(model._encode_stream_text(text["input_ids"], text["attention_mask"], None, None))
    expected = multilabel_loss(logits, batch["labels"], model.config) + multilabel_loss(
        head, batch["ranker_targets"].float(), model.config
    )
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=1e-5)


def test_block_sigmoid_gives_each_block_the_probabilities_it_had_alone():
    from types import SimpleNamespace

    from lmmlc.label_stream_lmmlc import block_sigmoid

    config = SimpleNamespace(label_blocks=[20, 8])
    for seed in range(
        20
    ):  # a plain sigmoid of the wider tensor rounds some of these differently (about half the seeds)
        generator = torch.Generator().manual_seed(seed)
        old, new = torch.randn(51, 20, generator=generator) * 4, torch.randn(51, 8, generator=generator) * 4
        probabilities = block_sigmoid(torch.cat([old, new], dim=1), config)
        assert torch.equal(probabilities[:, :20], torch.sigmoid(old)) and torch.equal(
            probabilities[:, 20:], torch.sigmoid(new)
        )
    assert torch.equal(block_sigmoid(old, SimpleNamespace(label_blocks=None)), torch.sigmoid(old))
