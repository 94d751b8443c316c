"""`lmmlc-push`: checks before any upload, the dry run, and the calls at the `huggingface_hub` API boundary."""

import json

import pytest

from lmmlc.push import PushArguments, files_to_upload, main, push, remote_code_files

from .test_modeling_lmmlc import HUB_FILES


class RecordingApi:
    """Stands in for `huggingface_hub.HfApi`: records every call instead of reaching the Hub."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


@pytest.fixture
def folder(make_model, tokenizer, tmp_path):
    path = tmp_path / "model"
    make_model().save_pretrained(path)
    tokenizer.save_pretrained(path)
    (path / "all_results.json").write_text(json.dumps({"test_micro_f1@global": 0.5}))
    (path / "training_args.bin").write_bytes(b"pickle")
    (path / "checkpoint-2").mkdir()
    (path / "checkpoint-2" / "model.safetensors").write_bytes(b"x")
    return path


def test_upload_calls_and_files(folder):
    api = RecordingApi()
    args = PushArguments(str(folder), "me/model", private=True, revision="v1", commit_message="hi", token="t")
    files = push(args, api=api)
    assert [name for name, _, _ in api.calls] == ["create_repo", "create_branch", "upload_folder"]
    assert api.calls[0][1] == ("me/model",) and api.calls[0][2]["private"] is True
    upload = api.calls[2][2]
    assert upload["folder_path"] == str(folder) and upload["revision"] == "v1" and upload["commit_message"] == "hi"
    assert "README.md" in files and "model.safetensors" in files and "pipeline_lmmlc.py" in files
    assert "handler.py" in files  # the Inference Endpoints handler (tests/test_handler.py)
    assert not any(name.endswith(".bin") or name.startswith("checkpoint-") for name in files)


def test_dry_run_writes_the_card_and_uploads_nothing(folder, capsys, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    main(["--model_path", str(folder), "--repo_id", "me/model", "--dry_run"])
    out = capsys.readouterr().out
    assert out.startswith(f"Would upload {len(files_to_upload(folder))} files to me/model")
    assert (folder / "README.md").read_text().startswith("---\n")


def test_a_handler_py_of_the_user_is_never_replaced(folder):
    (folder / "handler.py").write_text("class EndpointHandler: ...\n")
    with pytest.raises(ValueError, match="not lmmlc's Inference Endpoints handler"):
        push(PushArguments(str(folder), "me/model", dry_run=True))
    assert (folder / "handler.py").read_text() == "class EndpointHandler: ...\n"
    assert not (folder / "README.md").exists()
    from lmmlc.push import HANDLER_SOURCE

    earlier = HANDLER_SOURCE.read_text().splitlines()[0] + "\n# an earlier lmmlc's handler\n"
    (folder / "handler.py").write_text(earlier)
    push(PushArguments(str(folder), "me/model", dry_run=True))  # lmmlc's own, of another version: replaced
    assert (folder / "handler.py").read_text() == HANDLER_SOURCE.read_text()


def test_no_token_fails_before_any_upload(folder, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-home"))
    api = RecordingApi()
    with pytest.raises(ValueError, match="No Hugging Face token"):
        push(PushArguments(str(folder), "me/model"), api=api)
    assert api.calls == []


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (lambda f: (f / "model.safetensors").unlink(), "missing model.safetensors"),
        (lambda f: (f / "modeling_lmmlc.py").unlink(), "missing modeling_lmmlc.py"),
        (lambda f: (f / "decoding_lmmlc.py").unlink(), "missing decoding_lmmlc.py"),
        (lambda f: (f / "label_stream_lmmlc.py").unlink(), "missing label_stream_lmmlc.py"),
        (lambda f: (f / "tokenizer_config.json").unlink(), "has no complete tokenizer"),
        (lambda f: (f / "tokenizer.json").unlink(), r"missing tokenizer\.json"),
        (lambda f: (f / "config.json").write_text('{"model_type": "roberta"}'), "not an lmmlc one"),
        (lambda f: (f / "config.json").write_text('{"model_type": "bert"}'), "stock transformers model"),
    ],
)
def test_folder_that_is_not_a_trained_model_fails_before_any_upload(folder, damage, error):
    damage(folder)
    api = RecordingApi()
    with pytest.raises(ValueError, match=error):
        push(PushArguments(str(folder), "me/model", token="t"), api=api)
    assert api.calls == [] and not (folder / "README.md").exists()


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        push(PushArguments(str(tmp_path / "absent"), "me/model", token="t"), api=RecordingApi())


def test_the_remote_code_files_are_the_ones_that_travel(folder):
    assert remote_code_files(folder) == sorted(set(HUB_FILES) - {"modeling_lmmlc.py"})


def test_a_hand_written_readme_is_never_replaced(folder, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    (folder / "README.md").write_text("# My notes\n")
    with pytest.raises(ValueError, match="was not written by lmmlc"):
        main(["--model_path", str(folder), "--repo_id", "me/model", "--dry_run"])
    assert (folder / "README.md").read_text() == "# My notes\n"
    (folder / "README.md").unlink()
    main(["--model_path", str(folder), "--repo_id", "me/model", "--dry_run"])  # lmmlc's own card: rewritten freely
    main(["--model_path", str(folder), "--repo_id", "me/model", "--dry_run"])


def test_the_runs_manifest_stays_local(folder):
    (folder / "lmmlc_run.json").write_text('{"command": "lmmlc-train --data_dir /home/me/private"}')
    assert "lmmlc_run.json" not in files_to_upload(folder)


def test_metrics_of_a_replaced_decoder_are_refused_until_rescored(folder):
    from lmmlc.find_order import mark_results_stale

    mark_results_stale(folder, "one_shot")
    assert json.loads((folder / "all_results.json").read_text())["test_micro_f1@global"] == 0.5  # kept, marked
    with pytest.raises(ValueError, match="scored with the one_shot decoder, but the model now ships a fixed order"):
        push(PushArguments(str(folder), "me/model", dry_run=True))
    (folder / "all_results.json").write_text(json.dumps({"test_micro_f1@global": 0.6}))  # lmmlc-evaluate rescored it
    assert "all_results.json" in push(PushArguments(str(folder), "me/model", dry_run=True))
