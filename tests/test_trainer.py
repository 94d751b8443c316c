import datasets
import pytest
import torch
from transformers import DataCollatorWithPadding, TrainingArguments

from lmmlc import DataCollatorForLabelMask
from lmmlc.trainer import MultiLabelTrainer


@pytest.fixture
def dataset(tokenizer):
    texts = ["i love it", "so angry about this thing", "sad", "happy joy the a"] * 4
    rows = [{**tokenizer(t), "labels": [1, 0, 1, 0]} for t in texts]
    return datasets.Dataset.from_list(rows)


def trainer_for(model, tokenizer, dataset, tmp_path, **kwargs):
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=16,
        per_device_eval_batch_size=16,
        report_to="none",
        max_steps=1,
        learning_rate=1e-3,
        seed=0,
    )
    if hasattr(model.config, "check_reveals"):
        train = DataCollatorForLabelMask(
            tokenizer, model.config, reveal_strategy="random", reveal_example_prob=1.0, seed=0
        )
        evaluation = DataCollatorForLabelMask(tokenizer, model.config, reveal_strategy="none")
    else:  # a pooled model: padding only
        train = evaluation = DataCollatorWithPadding(tokenizer)
    return MultiLabelTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        eval_dataset=dataset,
        data_collator=train,
        eval_data_collator=evaluation,
        **kwargs,
    )


def test_evaluation_batches_reveal_nothing_while_training_batches_do(make_model, tokenizer, dataset, tmp_path):
    trainer = trainer_for(make_model(), tokenizer, dataset, tmp_path)
    train_batch = next(iter(trainer.get_train_dataloader()))
    assert (train_batch["labels"] == -100).any()
    for loader in (trainer.get_eval_dataloader(), trainer.get_test_dataloader(dataset)):
        eval_batch = next(iter(loader))
        assert not (eval_batch["labels"] == -100).any()
        slots = eval_batch["input_ids"].gather(1, eval_batch["slot_positions"])
        assert (slots == torch.tensor(trainer.model.config.label_mask_token_ids)).all()  # every label masked
    assert trainer.data_collator.reveal_strategy == "random"


def test_fgm_adds_the_adversarial_gradient(make_model, tokenizer, dataset, tmp_path):
    updates = {}
    for run, epsilon in (("plain", 0.0), ("again", 0.0), ("fgm", 1.0)):
        model = make_model()
        before = model.bert.get_input_embeddings().weight.detach().clone()
        trainer = trainer_for(model, tokenizer, dataset, tmp_path / run, fgm_epsilon=epsilon)
        trainer.train()
        after = model.bert.get_input_embeddings().weight.detach()
        updates[run] = after - before
        assert torch.isfinite(after).all()
    assert torch.equal(updates["plain"], updates["again"])  # so the difference below is FGM's
    assert not torch.allclose(updates["plain"], updates["fgm"])


def test_fgm_step_adds_the_gradient_at_the_ascent_perturbed_embeddings_then_restores_them(
    make_model, tokenizer, dataset, tmp_path
):
    """By hand: g = grad L(E); the step's gradient is g + grad L(E + eps g_E / |g_E|), and E is unchanged."""
    import copy

    epsilon = 0.5
    model = make_model()
    trainer = trainer_for(model, tokenizer, dataset, tmp_path, fgm_epsilon=epsilon)
    batch = next(iter(trainer.get_train_dataloader()))
    reference = copy.deepcopy(model).train()
    embeddings = reference.get_input_embeddings().weight
    reference(**batch).loss.backward()
    clean = {name: p.grad.clone() for name, p in reference.named_parameters() if p.grad is not None}
    with torch.no_grad():
        embeddings.add_(epsilon * embeddings.grad / embeddings.grad.norm())
    reference.zero_grad()
    reference(**batch).loss.backward()
    expected = {name: clean[name] + p.grad for name, p in reference.named_parameters() if name in clean}

    before = model.get_input_embeddings().weight.detach().clone()
    model.zero_grad()
    trainer.current_gradient_accumulation_steps = 1  # set by the training loop on transformers 5
    trainer.training_step(model, batch)
    assert torch.equal(model.get_input_embeddings().weight.detach(), before)  # the perturbation is removed
    got = {name: p.grad for name, p in model.named_parameters() if name in expected}
    assert got.keys() == expected.keys()
    for name in expected:
        assert torch.allclose(got[name], expected[name], atol=1e-6), name


def test_negative_fgm_is_rejected(make_model, tokenizer, dataset, tmp_path):
    with pytest.raises(ValueError, match="fgm_epsilon"):
        trainer_for(make_model(), tokenizer, dataset, tmp_path, fgm_epsilon=-1.0)


def _moved_by_one_step(trainer, model) -> dict[str, float]:
    """How far each parameter moved in one AdamW step (about its group's rate where it has a gradient)."""
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer.train()
    optimized = [p for group in trainer.optimizer.param_groups for p in group["params"]]
    assert len(optimized) == len({id(p) for p in optimized}) == sum(p.requires_grad for p in model.parameters())
    return {name: (p.detach() - before[name]).abs().max().item() for name, p in model.named_parameters()}


def test_head_learning_rate_moves_lmmlcs_pooled_text_head_only(make_model, tokenizer, dataset, tmp_path):
    model = make_model(label_stream=True, pooled_text_head=True, prompt_tokens_before=1)
    moved = _moved_by_one_step(trainer_for(model, tokenizer, dataset, tmp_path, head_learning_rate=0.1), model)
    head = [name for name in moved if name.startswith("text_head.")]
    assert head and min(moved[name] for name in head) == pytest.approx(0.1, rel=0.05)
    rest = [name for name in moved if name not in head and moved[name] > 0]
    assert any(name.startswith("cls.") for name in rest)  # the cloze head's transform keeps the encoder's rate
    assert max(moved[name] for name in rest) == pytest.approx(1e-3, rel=0.05)


def test_head_learning_rate_without_a_new_head_is_refused(make_model, tokenizer, dataset, tmp_path):
    model = make_model(label_stream=True, prompt_tokens_before=1, pooled_text_head=False)  # no new head
    with pytest.raises(ValueError, match=r"head_learning_rate=0.1 .* no new head.*--pooled_text_head true"):
        trainer_for(model, tokenizer, dataset, tmp_path, head_learning_rate=0.1)


def test_head_learning_rate_moves_a_pooled_models_head(bert_dir, tokenizer, dataset, tmp_path):
    from lmmlc import BertForMultiLabelClassification

    torch.manual_seed(0)
    model = BertForMultiLabelClassification.from_encoder(bert_dir, label_names=["a", "b", "c", "d"])
    moved = _moved_by_one_step(trainer_for(model, tokenizer, dataset, tmp_path, head_learning_rate=0.1), model)
    head = [name for name in moved if not name.startswith("bert.")]
    assert head and max(moved[name] for name in head) == pytest.approx(0.1, rel=0.05)
    assert max(moved[name] for name in moved if name.startswith("bert.")) == pytest.approx(1e-3, rel=0.05)


def test_without_head_learning_rate_one_rate_for_all(make_model, tokenizer, dataset, tmp_path):
    trainer = trainer_for(make_model(), tokenizer, dataset, tmp_path)
    trainer.create_optimizer()
    assert {group["lr"] for group in trainer.optimizer.param_groups} == {1e-3}


def test_a_learning_rate_left_unresolved_is_refused(make_model, tmp_path):
    from lmmlc.arguments import LmmlcTrainingArguments

    args = LmmlcTrainingArguments(output_dir=str(tmp_path), report_to="none")
    with pytest.raises(ValueError, match=r"args.learning_rate is None: .*resolve_learning_rates"):
        MultiLabelTrainer(model=make_model(), args=args)
    args.resolve_learning_rates("lmmlc")
    assert MultiLabelTrainer(model=make_model(), args=args).args.learning_rate == 3e-4
