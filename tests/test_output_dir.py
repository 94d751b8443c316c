import json

import pytest

from lmmlc.output_dir import MANIFEST, check_output_dir, clear_output_dir, sign_output_dir
from lmmlc.training import main

RUN_FILES = ("all_results.json", "eval_results.json", "training_log.jsonl", "model.safetensors", "config.json")


def finished_run(folder):
    (folder / "checkpoint-2").mkdir(parents=True)
    for name in RUN_FILES:
        (folder / name).write_text("old")
    sign_output_dir(folder, "lmmlc-train ...", finished=True)
    return folder


def test_overwrite_clears_only_what_the_earlier_run_wrote(tmp_path):
    out = finished_run(tmp_path / "out")
    names = check_output_dir(out, overwrite=True, resume=False)
    assert set(names) == {*RUN_FILES, "checkpoint-2", MANIFEST}
    assert (out / "config.json").exists()  # checking deletes nothing
    clear_output_dir(out, names)
    assert list(out.iterdir()) == []


def test_a_folder_no_run_signed_is_never_cleared(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("README.md", "config.json", "notes_results.json"):
        (folder / name).write_text("mine")
    with pytest.raises(ValueError, match=f"no lmmlc run signed \\(it has no {MANIFEST}"):
        check_output_dir(folder, overwrite=True, resume=False)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "notes_results.json"]


def test_files_added_after_a_run_are_named_and_kept(tmp_path):
    out = finished_run(tmp_path / "out")
    (out / "README.md").write_text("my own notes")  # a name a run may write, but this run did not
    (out / "runs").mkdir()
    with pytest.raises(ValueError, match=r"also holds README\.md, runs, which the earlier run did not write"):
        check_output_dir(out, overwrite=True, resume=False)


def test_a_run_cut_off_before_its_end_owns_only_the_names_a_run_writes(tmp_path):
    out = tmp_path / "out"
    sign_output_dir(out, "lmmlc-train ...", finished=False)
    (out / "checkpoint-4").mkdir()
    (out / "trainer_state.json").write_text("{}")
    assert set(check_output_dir(out, overwrite=True, resume=False)) == {"checkpoint-4", "trainer_state.json", MANIFEST}
    (out / "data.csv").write_text("mine")
    with pytest.raises(ValueError, match=r"also holds data\.csv"):
        check_output_dir(out, overwrite=True, resume=False)


def test_non_empty_without_overwrite_is_refused_and_resuming_is_allowed(tmp_path):
    out = finished_run(tmp_path / "out")
    with pytest.raises(ValueError, match="--overwrite_output_dir"):
        check_output_dir(out, overwrite=False, resume=False)
    assert check_output_dir(out, overwrite=False, resume=True) == []
    assert check_output_dir(tmp_path / "absent", overwrite=False, resume=False) == []


def test_overwrite_with_bad_data_keeps_the_earlier_model(tmp_path):
    out = finished_run(tmp_path / "out")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text("not json\n")
    (tmp_path / "data" / "labels.txt").write_text("a\n")
    with pytest.raises(ValueError):
        main(["--output_dir", str(out), "--overwrite_output_dir", "--data_dir", str(tmp_path / "data")])
    assert (out / "model.safetensors").read_text() == "old"
    assert json.loads((out / MANIFEST).read_text())["entries"] is not None


def test_files_there_before_a_resumed_run_stay_foreign(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "checkpoint-2").mkdir()
    sign_output_dir(out, "lmmlc-train ...", finished=False)  # a run resumed into a folder holding notes.txt
    (out / "model.safetensors").write_text("new")
    sign_output_dir(out, "lmmlc-train ...", finished=True)
    assert json.loads((out / MANIFEST).read_text())["entries"] == ["model.safetensors"]
    with pytest.raises(ValueError, match=r"also holds checkpoint-2, notes\.txt"):
        check_output_dir(out, overwrite=True, resume=False)


def test_files_lmmlc_writes_after_the_run_are_its_own(tmp_path):
    from lmmlc.output_dir import record_output

    out = finished_run(tmp_path / "out")
    (out / "order_search.json").write_text("{}")  # lmmlc-find-order, after the run
    record_output(out, "order_search.json")
    assert "order_search.json" in check_output_dir(out, overwrite=True, resume=False)


def test_another_commands_run_is_not_replaced(tmp_path):
    out = finished_run(tmp_path / "out")
    with pytest.raises(ValueError, match="holds a lmmlc-train run, not a lmmlc-pretrain one"):
        check_output_dir(out, overwrite=True, resume=False, command="lmmlc-pretrain")
