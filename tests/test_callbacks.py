import json

import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments

from lmmlc import DataCollatorForLabelMask
from lmmlc.callbacks import JsonLogCallback, MLMScheduleCallback


@pytest.fixture
def collator(make_model, tokenizer):
    return DataCollatorForLabelMask(tokenizer, make_model().config, mlm_probability=0.5, seed=0)


def batch(collator, tokenizer):
    return collator([{**tokenizer("i love it so"), "labels": [1, 0, 0, 0]}])


@pytest.mark.parametrize(
    ("options", "epoch", "step", "active"),
    [
        ({"epochs": 1}, 0.0, 0, True),
        ({"epochs": 1}, 0.99, 30, True),
        ({"epochs": 1}, 1.0, 31, False),
        ({"steps": 10}, 0.2, 9, True),
        ({"steps": 10}, 0.2, 10, False),
        ({"epochs": 2, "steps": 10}, 0.5, 10, False),
    ],
)
def test_mlm_schedule_switches_off_when_it_should(collator, tokenizer, tmp_path, options, epoch, step, active):
    callback = MLMScheduleCallback(collator, **options)
    state = TrainerState(epoch=epoch, global_step=step)
    callback.on_step_end(TrainingArguments(output_dir=str(tmp_path)), state, TrainerControl())
    assert collator.mlm_active is active
    assert ("mlm_targets" in batch(collator, tokenizer)) is active


def test_mlm_schedule_needs_a_length_and_in_process_collation(collator, tmp_path):
    with pytest.raises(ValueError, match="epochs or steps"):
        MLMScheduleCallback(collator)
    args = TrainingArguments(output_dir=str(tmp_path), dataloader_num_workers=2)
    with pytest.raises(ValueError, match="dataloader_num_workers=0"):
        MLMScheduleCallback(collator, epochs=1).on_train_begin(args, TrainerState(), TrainerControl())


def test_json_log_appends_lines(tmp_path):
    callback, args = JsonLogCallback(), TrainingArguments(output_dir=str(tmp_path))
    for step in (1, 2):
        callback.on_log(args, TrainerState(global_step=step, epoch=0.5), TrainerControl(), logs={"loss": 0.1 * step})
    lines = [json.loads(line) for line in (tmp_path / "training_log.jsonl").read_text().splitlines()]
    assert lines == [{"step": 1, "epoch": 0.5, "loss": 0.1}, {"step": 2, "epoch": 0.5, "loss": 0.2}]
