import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from transformers import AutoModelForSequenceClassification

from lmmlc.arguments import HEAD_LEARNING_RATES, ModelArguments
from lmmlc.evaluation import THRESHOLD_SETTINGS, predict_dataset
from lmmlc.evaluation import main as evaluate
from lmmlc.metrics import METRIC_NAMES
from lmmlc.prediction import main as predict
from lmmlc.push import PushArguments, push
from lmmlc.thresholds import (
    choose_min_positives,
    cross_fitted_scores,
    tune_global_threshold,
    tune_label_thresholds,
)
from lmmlc.training import CHECKPOINT_FILES, build_model, head_learning_rate, main, parse_args, tune_thresholds

from .conftest import data_set, noisy_rare_labels, scored_by_sklearn, slice_data, tiny_run_args

ROOT = Path(__file__).parents[1]
COMPACT = ["--mask_mode", "per_label", "--prompt_tokens_before", "0", "--prompt_tokens_after", "0"]


@pytest.mark.slow
def test_tiny_run_writes_a_complete_hub_ready_folder(trained):
    _, output = trained
    files = {p.name for p in output.iterdir()}
    expected = {
        "config.json",
        "configuration_lmmlc.py",
        "modeling_lmmlc.py",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "all_results.json",
        "trainer_state.json",
        "training_log.jsonl",
    }
    assert expected <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) and name != "training_args.bin" for name in files)
    config = json.loads((output / "config.json").read_text())
    assert set(config["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification"}
    assert len(config["label_thresholds"]) == 28 and 0 < config["threshold"] < 1
    saved = json.loads((output / "all_results.json").read_text())
    assert {f"{p}_{m}@{s}" for p in ("eval", "test") for s in THRESHOLD_SETTINGS for m in METRIC_NAMES} <= set(saved)
    data = output.parent / "data"
    for prefix, split, limit in (("eval", "validation", 32), ("test", "test", None)):
        expected = scored_by_sklearn(output, data, split, limit)
        for metric in ("micro_f1@global", "micro_f1@per_label", "subset_accuracy@global"):
            assert saved[f"{prefix}_{metric}"] == pytest.approx(expected[metric], abs=1e-9), (prefix, metric)
    assert saved["train_loss"] > 0
    log = [json.loads(line) for line in (output / "training_log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log if "loss" in entry] == [1, 2, 3]


@pytest.mark.slow
def test_saved_model_predicts_with_its_thresholds(trained):
    _, output = trained
    model = AutoModelForSequenceClassification.from_pretrained(output)
    assert model.config.decision_thresholds() == model.config.label_thresholds


def test_command_line_options_override_the_config_file():
    _, data_args, _, training_args = parse_args(
        [str(ROOT / "configs" / "goemotions-minilm-quick.yaml"), "--max_train_samples", "10", "--output_dir", "x"]
    )
    assert data_args.max_train_samples == 10 and training_args.output_dir == "x"
    assert training_args.num_train_epochs == 1  # from the file


def test_config_files_parse_like_the_command_line(tmp_path):
    options = {
        "output_dir": str(tmp_path),
        "model_type": "baseline",
        "max_train_samples": 5,
        "reveal_example_prob": 0.2,
    }
    (tmp_path / "run.json").write_text(json.dumps(options))
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(options))
    for path in ("run.json", "run.yaml"):
        model_args, data_args, lm_args, training_args = parse_args([str(tmp_path / path)])
        assert model_args.model_type == "baseline" and data_args.max_train_samples == 5
        assert lm_args.reveal_example_prob == 0.2 and training_args.output_dir == str(tmp_path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model_type", "roberta"], "choose one of lmmlc, baseline, stock"),
        (["--model_type", "stock", "--fgm_epsilon", "0.1"], "joint MLM and FGM need lmmlc or baseline"),
        (["--mlm_probability", "0.15"], "both --mlm_probability"),
        (["--mlm_epochs", "1"], "schedule joint MLM"),
        (["--decode_strategy", "fixed"], "needs a label order"),
        (["--all_masked_loss_weight", "1"], "reveals none: add --reveal_strategy random"),
        (["--all_masked_loss_weight", "1", "--reveal_strategy", "random", "--reveal_example_prob", "0"], "none"),
    ],
)
def test_contradictory_options_fail_before_loading(tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        main(["--output_dir", str(tmp_path / "out"), "--data_dir", str(tmp_path / "absent"), *extra])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag", ["--model_name_or_path", "--tokenizer_name"])
@pytest.mark.parametrize("path", ["./no-such-bert", "/no/such/bert", "runs/a/b"])
def test_a_missing_model_folder_is_named_not_taken_for_a_bad_hub_id(tmp_path, flag, path):
    with pytest.raises(FileNotFoundError, match=f"{flag} {path}: no such folder"):
        main(["--output_dir", str(tmp_path / "out"), "--data_dir", str(tmp_path / "absent"), flag, path])
    assert not (tmp_path / "out").exists()


def test_bad_data_fails_before_training(tmp_path, shared_data):
    data = slice_data(shared_data, tmp_path / "data", rows=4)
    with (data / "validation.jsonl").open("a") as handle:
        handle.write(json.dumps({"text": "odd", "labels": ["joy", "glee"]}) + "\n")
    with pytest.raises(ValueError, match=r"validation\.jsonl, line 5: unknown label 'glee'"):
        main(tiny_run_args(data, tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def assert_evaluate_reproduces_the_report(output: Path, data: Path, metrics: Path, decoder: str) -> None:
    """lmmlc-evaluate on a trained folder names `decoder` and gives its report's validation and test metrics."""
    results = json.loads((output / "all_results.json").read_text())
    evaluate(["--model_path", str(output), "--data_dir", str(data), "--output_file", str(metrics)])
    got = json.loads(metrics.read_text())
    assert got["decoder"] == decoder
    shared = [k for k in got if k.startswith(("eval_", "test_"))]
    assert {k: got[k] for k in shared} == pytest.approx({k: results[k] for k in shared}, abs=1e-9)


@pytest.mark.slow
def test_the_report_of_a_model_shipping_rounds_is_what_evaluate_measures(tmp_path, shared_data, bert_dir, monkeypatch):
    """Rounds reveal labels at the decision thresholds, so the report decodes again once they are tuned: its
    last decoding of each split uses the tuned thresholds, and lmmlc-evaluate reproduces it."""
    import lmmlc.training

    seen = []

    def recording(model, *args, **kwargs):
        seen.append((model.config.threshold, list(model.config.label_thresholds or [])))
        return predict_dataset(model, *args, **kwargs)

    monkeypatch.setattr(lmmlc.training, "predict_dataset", recording)
    data = slice_data(shared_data, tmp_path / "data", rows=24)
    options = [
        "--model_name_or_path",
        str(bert_dir),
        *COMPACT,
        "--decode_strategy",
        "confidence",
        "--label_stream",
        "false",
    ]
    main(tiny_run_args(data, tmp_path / "out", *options, "--text_attends_labels", "false"))
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert seen[-2:] == [(config["threshold"], config["label_thresholds"])] * 2  # validation and test, tuned
    assert seen[0] == (0.5, [])  # before tuning
    assert_evaluate_reproduces_the_report(tmp_path / "out", data, tmp_path / "metrics.json", "confidence")


@pytest.mark.slow
def test_baseline_tiny_run(tmp_path, shared_data):
    data = slice_data(shared_data, tmp_path / "data", rows=24)
    main(tiny_run_args(data, tmp_path / "out", "--model_type", "baseline", "--pooling", "layer_weighted"))
    results = json.loads((tmp_path / "out" / "all_results.json").read_text())
    expected = scored_by_sklearn(tmp_path / "out", data)
    assert results["test_micro_f1@per_label"] == pytest.approx(expected["micro_f1@per_label"], abs=1e-9)
    assert json.loads((tmp_path / "out" / "config.json").read_text())["model_type"] == "lmmlc_baseline"


@pytest.mark.slow
def test_stock_transformers_model_tiny_run(tmp_path, shared_data, bert_dir):
    data = slice_data(shared_data, tmp_path / "data", rows=24)
    main(tiny_run_args(data, tmp_path / "out", "--model_type", "stock", "--model_name_or_path", str(bert_dir)))
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["model_type"] == "bert" and config["problem_type"] == "multi_label_classification"
    assert config["architectures"] == ["BertForSequenceClassification"] and len(config["id2label"]) == 28
    assert len(config["label_thresholds"]) == 28 and 0 < config["threshold"] < 1
    results = json.loads((tmp_path / "out" / "all_results.json").read_text())
    expected = scored_by_sklearn(tmp_path / "out", data)
    for metric in ("micro_f1@global", "micro_f1@per_label", "subset_accuracy@per_label"):
        assert results[f"test_{metric}"] == pytest.approx(expected[metric], abs=1e-9), metric
    # lmmlc-evaluate and lmmlc-predict serve the stock model lmmlc-train wrote; lmmlc-push names why it does not
    metrics = tmp_path / "metrics.json"
    evaluate(["--model_path", str(tmp_path / "out"), "--data_dir", str(data), "--output_file", str(metrics)])
    got = json.loads(metrics.read_text())
    assert {k: got[k] for k in got if k.startswith("test_")} == pytest.approx(
        {k: v for k, v in results.items() if k.startswith("test_")}
    )
    (tmp_path / "in.jsonl").write_text('{"text": "i love it"}\n')
    inputs = ["--input_file", str(tmp_path / "in.jsonl"), "--output_file", str(tmp_path / "out.jsonl")]
    predict(["--model_path", str(tmp_path / "out"), *inputs])
    row = json.loads((tmp_path / "out.jsonl").read_text())
    assert list(row["scores"]) == list(config["id2label"].values())
    thresholds = dict(zip(config["id2label"].values(), config["label_thresholds"], strict=True))
    assert row["labels"] == [name for name, p in row["scores"].items() if p >= thresholds[name]]
    with pytest.raises(ValueError, match=r"stock transformers model .* `hf upload"):
        push(PushArguments(str(tmp_path / "out"), "me/model", token="t"))


@pytest.mark.slow
def test_two_process_accelerate_run_in_bf16_on_cpu(tmp_path, shared_data, bert_dir):
    data = slice_data(shared_data, tmp_path / "data", rows=32)
    # `accelerate launch --cpu` always starts one process; --multi_gpu goes through torchrun, which
    # on a machine without GPUs gives gloo processes on the CPU (with --use_cpu for the Trainer).
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        str(ROOT / "scripts" / "train.py"),
        *tiny_run_args(data, tmp_path / "out", "--model_name_or_path", str(bert_dir), "--use_cpu", "--bf16", *COMPACT),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    state = json.loads((tmp_path / "out" / "trainer_state.json").read_text())
    # 3 steps x 8 examples per process over 32 examples: 0.75 epochs on one process, 1.5 on two
    assert state["global_step"] == 3 and state["epoch"] == 1.5
    results = json.loads((tmp_path / "out" / "all_results.json").read_text())
    assert all(math.isfinite(results[key]) for key in ("train_loss", "test_micro_f1@per_label"))
    assert result.stdout.count("| test | per_label |") == 1  # the table comes from the main process only


@pytest.mark.parametrize("model_type", ["lmmlc", "baseline"])
def test_every_model_option_reaches_the_config(bert_dir, model_type):
    chosen = {
        "classification_loss": "zlpr",
        "focal_gamma": 1.5,
        "focal_alpha": 0.3,
        "label_loss_weight": 0.7,
        "mlm_loss_weight": 0.2,
        "pooling": "layer_weighted",
        "prompt_tokens_before": 0,
        "prompt_tokens_after": 2,
        "mask_mode": "per_label",
        "token_type_strategy": "none",
        "text_attends_labels": False,
        "label_stream": True,
        "label_group_size": 2,
        "label_stream_layers": 1,
        "all_masked_loss_weight": 0.5,
        "pooled_text_head": False,  # on by default with the stream
    }
    args = ModelArguments(model_name_or_path=str(bert_dir), model_type=model_type, **chosen)
    model, _ = build_model(args, ["joy", "anger"])
    accepted = {k: v for k, v in chosen.items() if hasattr(model.config, k)}
    assert {k: getattr(model.config, k) for k in accepted} == accepted
    if model_type == "lmmlc":
        assert accepted == chosen  # no label-mask option is dropped on the way


@pytest.mark.slow
@pytest.mark.parametrize(("accumulation", "rows"), [(1, 32), (3, 32), (3, 64)])
def test_checkpoints_carry_the_remote_code_and_resume_to_the_same_model(
    tmp_path, shared_data, bert_dir, accumulation, rows
):
    """With gradient accumulation the resumed collator must skip the batches the first run drew: `accumulation`
    per step, but only what is left at an epoch's end (32 rows: 4 batches, checkpoint-2 ends epoch 1 after 4
    batches, not 6; 64 rows: checkpoint-2 is mid-epoch, after 6)."""
    from safetensors.torch import load_file

    data = slice_data(shared_data, tmp_path / "data", rows=rows)
    run = ["--model_name_or_path", str(bert_dir), "--max_steps", "4", *COMPACT]
    run += ["--gradient_accumulation_steps", str(accumulation), "--reveal_example_prob", "1.0"]

    def train(output, *extra):
        main([*tiny_run_args(data, output, *run), "--save_strategy", "steps", "--save_steps", "2", *extra])
        return load_file(output / "model.safetensors")

    straight = train(tmp_path / "straight")
    checkpoint = tmp_path / "straight" / "checkpoint-2"
    files = {p.name for p in checkpoint.iterdir()}
    assert {"configuration_lmmlc.py", "modeling_lmmlc.py", "pipeline_lmmlc.py", "model.safetensors"} <= files
    assert "AutoModelForSequenceClassification" in json.loads((checkpoint / "config.json").read_text())["auto_map"]
    loaded = AutoModelForSequenceClassification.from_pretrained(checkpoint, trust_remote_code=True)
    assert torch.equal(
        loaded.state_dict()["cls.predictions.bias"], load_file(checkpoint / "model.safetensors")["cls.predictions.bias"]
    )
    resumed = train(tmp_path / "resumed", "--resume_from_checkpoint", str(checkpoint))
    assert straight.keys() == resumed.keys()
    for name, tensor in straight.items():
        assert torch.allclose(tensor, resumed[name], atol=1e-6), name


@pytest.mark.slow
def test_sigkill_mid_training_then_resume_reaches_the_uninterrupted_model(tmp_path, shared_data, bert_dir):
    import signal
    import time

    from safetensors.torch import load_file

    data = slice_data(shared_data, tmp_path / "data", rows=32)
    run = ["--model_name_or_path", str(bert_dir), "--max_steps", "40", "--save_strategy", "steps", "--save_steps", "2"]
    run += ["--save_total_limit", "3", *COMPACT, "--mlm_probability", "0.15", "--mlm_loss_weight", "0.5"]
    straight = tmp_path / "straight"
    main(tiny_run_args(data, straight, *run))
    killed = tmp_path / "killed"
    command = [sys.executable, str(ROOT / "scripts" / "train.py"), *tiny_run_args(data, killed, *run)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "checkpoint-10" / "trainer_state.json").exists():
        assert process.poll() is None and time.time() < deadline, "training ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "all_results.json").exists()  # nothing looks finished
    steps = [int(p.name.split("-")[1]) for p in killed.glob("checkpoint-*")]
    shutil.copytree(killed / f"checkpoint-{max(steps)}", killed / "checkpoint-39")  # a save cut off by the kill:
    (killed / "checkpoint-39" / "trainer_state.json").unlink(missing_ok=True)  # all but the last file written
    main(tiny_run_args(data, killed, *run, "--resume_from_checkpoint", "latest"))
    expected, resumed = load_file(straight / "model.safetensors"), load_file(killed / "model.safetensors")
    assert all(torch.allclose(expected[k], resumed[k], atol=1e-6) for k in expected)
    straight_results = json.loads((straight / "all_results.json").read_text())
    resumed_results = json.loads((killed / "all_results.json").read_text())
    for key in ("test_micro_f1@global", "eval_subset_accuracy@0.5", "test_jaccard@per_label"):
        assert resumed_results[key] == pytest.approx(straight_results[key], abs=1e-6)
    assert not (killed / ".saving").exists()


@pytest.mark.slow
def test_hundreds_of_labels_train_with_the_plain_command(tmp_path, shared_data):
    """736 cooking tags: no flag needed (the stream is chosen), ranking metrics reported, predict/evaluate work."""
    from lmmlc.evaluation import main as evaluate
    from lmmlc.prediction import main as predict

    source, data = data_set(shared_data, "cooking-stackexchange"), tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text((source / "labels.txt").read_text())
    for split in ("train", "validation", "test"):
        lines = (source / f"{split}.jsonl").read_text().splitlines()[:32]
        (data / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    main(tiny_run_args(data, tmp_path / "out", "--label_stream_layers", "1"))
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["label_stream"] is True and len(config["id2label"]) == 736
    results = json.loads((tmp_path / "out" / "all_results.json").read_text())
    assert {f"test_{m}@{k}" for m in ("p", "r", "ndcg") for k in (1, 3, 5)} <= set(results)
    evaluate(
        ["--model_path", str(tmp_path / "out"), "--data_dir", str(data), "--output_file", str(tmp_path / "m.json")]
    )
    assert json.loads((tmp_path / "m.json").read_text())["test_p@1"] == results["test_p@1"]
    files = ["--input_file", str(data / "test.jsonl"), "--output_file", str(tmp_path / "p.jsonl")]
    predict(["--model_path", str(tmp_path / "out"), *files])
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert len(rows) == 32 and all(len(r["scores"]) == 736 for r in rows)


def test_a_non_empty_output_dir_is_refused_before_loading(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "all_results.json").write_text("{}")
    with pytest.raises(ValueError, match="--overwrite_output_dir"):
        main(["--output_dir", str(tmp_path / "out"), "--data_dir", str(tmp_path / "absent")])


def test_resume_latest_skips_an_incomplete_checkpoint_and_a_given_incomplete_one_is_refused(tmp_path, capsys):
    from lmmlc.arguments import LmmlcTrainingArguments
    from lmmlc.training import resume_checkpoint

    for step, files in ((2, CHECKPOINT_FILES), (4, CHECKPOINT_FILES), (6, ("model.safetensors",)), (8, ())):
        (tmp_path / f"checkpoint-{step}").mkdir()
        for name in files:
            (tmp_path / f"checkpoint-{step}" / name).write_text("{}")

    def resume(value):
        return resume_checkpoint(LmmlcTrainingArguments(str(tmp_path), resume_from_checkpoint=value))

    assert resume(None) is None
    assert resume("latest") == str(tmp_path / "checkpoint-4")
    assert "Skipping" in capsys.readouterr().out and resume("true") == str(tmp_path / "checkpoint-4")
    assert resume(str(tmp_path / "checkpoint-2")) == str(tmp_path / "checkpoint-2")
    with pytest.raises(ValueError, match=r"checkpoint-6 is not a complete checkpoint \(no trainer_state.json\)"):
        resume(str(tmp_path / "checkpoint-6"))
    for step in (2, 4):
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").unlink()
    with pytest.raises(FileNotFoundError, match="holds no complete checkpoint-N"):
        resume("latest")


@pytest.mark.parametrize(
    ("options", "given", "expected"),
    [
        ({"label_stream": True}, None, HEAD_LEARNING_RATES["lmmlc"]),  # the default: a pooled text head
        ({"label_stream": True, "pooled_text_head": False}, None, None),  # no new head: one rate for all
        ({"label_stream": False}, None, None),
        ({"label_stream": True}, 1e-3, 1e-3),
        ({"label_stream": False}, 1e-3, 1e-3),  # given: passed on, and the trainer refuses it (tests/test_trainer.py)
    ],
)
def test_lmmlc_heads_train_at_the_measured_head_rate_unless_given(make_model, options, given, expected):
    _, _, _, args = parse_args(
        ["--output_dir", "unused", *([] if given is None else ["--head_learning_rate", str(given)])]
    )
    assert args.head_learning_rate == given  # lmmlc: left to the model
    assert head_learning_rate(args, make_model(**options)) == expected


def test_tuning_stores_the_thresholds_of_the_fallback_count_cross_fitting_chose():
    probabilities, references = noisy_rare_labels(2)  # 12 positives a label, own thresholds fit noise: all global
    tuned = SimpleNamespace()
    assert choose_min_positives(cross_fitted_scores(probabilities, references)) > 12
    assert tune_thresholds(tuned, probabilities, references) == 0  # no label keeps a threshold of its own
    assert tuned.threshold == tune_global_threshold(probabilities, references)
    assert tuned.label_thresholds == [tuned.threshold] * references.shape[1]
    few = SimpleNamespace()  # fewer examples than folds: the fixed count, as before cross-fitting
    assert tune_thresholds(few, probabilities[:4], references[:4]) == int((references[:4].sum(axis=0) >= 5).sum())
    assert few.label_thresholds == tune_label_thresholds(probabilities[:4], references[:4], fallback=few.threshold)


@pytest.mark.parametrize(
    ("trained", "message"),
    [
        (["a", "c", "b"], "label 1 is 'c' in the checkpoint and 'b' in the data"),
        (["a", "b"], "the checkpoint has 2 labels and the data 3"),
    ],
)
def test_resuming_a_checkpoint_of_other_labels_is_refused_before_training(tmp_path, trained, message):
    data = tmp_path / "data"
    data.mkdir()
    (data / "labels.txt").write_text("a\nb\nc\n")
    (data / "train.jsonl").write_text('{"text": "x", "labels": ["a"]}\n')
    checkpoint = tmp_path / "out" / "checkpoint-2"
    checkpoint.mkdir(parents=True)
    for name in CHECKPOINT_FILES:
        (checkpoint / name).write_text("{}")
    (checkpoint / "config.json").write_text(json.dumps({"id2label": dict(enumerate(trained))}))
    options = ["--data_dir", str(data), "--output_dir", str(tmp_path / "out"), "--resume_from_checkpoint"]
    with pytest.raises(ValueError, match=f"trained on other labels than the data's: {message}"):
        main([*options, str(checkpoint)])


def test_a_single_sequence_that_leaves_few_text_tokens_is_named(bert_dir, capsys):
    names = [f"l{i}" for i in range(30)]
    options = {"mask_mode": "per_label", "prompt_tokens_before": 0, "prompt_tokens_after": 0}
    build_model(ModelArguments(model_name_or_path=str(bert_dir), label_stream=False, **options), names)
    out = capsys.readouterr().out
    assert "single-sequence template of 30 labels x 1 tokens leaves 31 text tokens" in out
    build_model(ModelArguments(model_name_or_path=str(bert_dir), label_stream=False, **options), names[:4])
    build_model(ModelArguments(model_name_or_path=str(bert_dir), label_stream=True, **options), names)
    assert "Warning" not in capsys.readouterr().out


def test_a_null_in_an_options_file_leaves_the_option_at_its_default(tmp_path):
    from lmmlc.command_options import file_options

    (tmp_path / "run.yaml").write_text("labels_file: null\nnum_train_epochs: 2\n")
    assert file_options(str(tmp_path / "run.yaml")) == ["--num_train_epochs", "2"]
    _, data_args, _, _ = parse_args([str(tmp_path / "run.yaml"), "--output_dir", str(tmp_path / "out")])
    assert data_args.labels_file is None


def test_a_run_without_validation_or_test_says_nothing_was_scored():
    from lmmlc.training import metrics_summary

    assert metrics_summary({"train": {"train_loss": 0.1}}, "out") == (
        "No validation or test split: nothing was scored. The model is saved in out."
    )
    assert metrics_summary({"train": {}, "test": {"test_micro_f1@0.5": 0.5}}, "out").startswith("| split |")


def test_a_yaml_boolean_given_to_a_text_option_is_refused(tmp_path):
    (tmp_path / "run.yaml").write_text("text_column: no\n")
    with pytest.raises(ValueError, match=r"text_column is the boolean False .* quote it"):
        parse_args([str(tmp_path / "run.yaml"), "--output_dir", str(tmp_path / "out")])
    (tmp_path / "run.yaml").write_text('text_column: "no"\nresume_from_checkpoint: true\nlabel_stream: no\n')
    model_args, data_args, _, training_args = parse_args([str(tmp_path / "run.yaml"), "--output_dir", "x"])
    assert data_args.text_column == "no" and training_args.resume_from_checkpoint == "true"
    assert model_args.label_stream is False  # a boolean option takes YAML booleans as they are


@pytest.mark.slow
def test_a_trained_folder_records_its_tokenizers_cls_and_refuses_another_vocabulary(trained):
    from transformers import AutoTokenizer

    _, folder = trained
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert json.loads((folder / "config.json").read_text())["cls_token_id"] == tokenizer.cls_token_id
    model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
    batch = tokenizer(["so happy"], return_tensors="pt")
    batch["input_ids"][:, 0] = 2  # a 5-token vocabulary's [CLS]
    with pytest.raises(ValueError, match="not made by the tokenizer saved with this model"):
        model(**batch)
