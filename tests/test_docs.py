"""README.md and docs/USAGE.md as tests: every command and Python block runs (in a workspace holding a slice of
GoEmotions at `data/goemotions`, with training shortened to a few steps), the quickstart is `examples/quickstart.py`,
and the option table is the configs' own. The two setup commands' `pip install` and test run are what CI itself runs
(`.ci/run`), so they are checked for their text only."""

import configparser
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lmmlc import LabelMaskConfig, MultiLabelBertConfig
from lmmlc.arguments import option_table

from .conftest import slice_data

ROOT = Path(__file__).parents[1]
SHORT = ["--max_steps", "2", "--per_device_train_batch_size", "4", "--per_device_eval_batch_size", "8"]
FEW = ["--max_eval_samples", "8", "--max_predict_samples", "8"]
SHORTER = {
    "lmmlc-train": SHORT + FEW,
    "lmmlc-pretrain": SHORT + FEW[:2],
    "lmmlc-find-order": ["--budget", "2", *FEW[:2]],
    "lmmlc-add-labels": ["--num_train_epochs", "1"],
}
"""Options appended to a documented command (later options override earlier ones) so that it runs in seconds."""
CI_ITSELF = ("pip install", "ruff check", "python -m pytest")


def blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", path.read_text(), re.S)


def commands(path: Path) -> list[str]:
    """Every command of the file's bash blocks (`a && b` counts as two)."""
    lines = [line for block in blocks(path, "bash") for line in block.splitlines() if line.strip()]
    return [part.strip() for line in lines for part in line.split("&&")]


def entry_points() -> dict[str, str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return dict(line.split(" = ") for line in parser["options.entry_points"]["console_scripts"].strip().splitlines())


def run(command: str) -> None:
    """A documented `lmmlc-*` command, in this process, shortened by `SHORTER`."""
    name, *argv = shlex.split(command)
    module, function = entry_points()[name].split(":")
    getattr(importlib.import_module(module), function)(argv + SHORTER.get(name, []))


@pytest.fixture
def workspace(tmp_path, shared_data, monkeypatch):
    """A folder laid out as the repository root for the docs: data/goemotions (24 rows a split), configs/, texts."""
    monkeypatch.chdir(tmp_path)
    data = slice_data(shared_data, tmp_path / "data" / "goemotions", rows=24)
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    (tmp_path / "outputs").mkdir()
    (tmp_path / "texts.jsonl").write_text('{"id": 1, "text": "Thank you so much!"}\n{"text": "This is awful."}\n')
    (tmp_path / "labels.txt").write_text((data / "labels.txt").read_text())
    (tmp_path / "new_labels.txt").write_text("hopeful\thope for the future\nbored\n")
    few = [("I hope it gets better", ["hopeful"]), ("So dull.", ["bored"]), ("Thank you!", [])]
    (tmp_path / "few_shot.jsonl").write_text("".join(json.dumps({"text": t, "labels": y}) + "\n" for t, y in few))
    for split, name in (("train", "train.csv"), ("validation", "dev.csv")):
        rows = [json.loads(line) for line in (data / f"{split}.jsonl").read_text().splitlines()]
        lines = ["text,labels"] + [json.dumps(r["text"]) + "," + ";".join(r["labels"]) for r in rows]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    return tmp_path


def run_document(path: Path) -> list[str]:
    """Run every command and Python block of `path` in document order; returns the commands CI runs itself."""
    text, skipped = path.read_text(), []
    pieces = re.finditer(r"```(bash|python)\n(.*?)```", text, re.S)
    for piece in pieces:
        if piece.group(1) == "python":
            exec(compile(piece.group(2), f"{path.name} block", "exec"), {})
            continue
        for line in piece.group(2).splitlines():
            for command in filter(None, (part.strip() for part in line.split("&&"))):
                if command.startswith(CI_ITSELF):
                    skipped.append(command)
                else:
                    run(command)
    return skipped


def test_readme_has_the_install_and_test_commands_ci_runs():
    assert commands(ROOT / "README.md")[:4] == [
        'pip install -e ".[cpu]"',
        "lmmlc-train configs/goemotions-minilm-quick.yaml",
        'pip install -e ".[test]"',
        "ruff check .",
    ]
    assert 'pip install -e ".[test]" && ruff check . && python -m pytest -q' in (ROOT / ".ci" / "run").read_text()
    assert len(blocks(ROOT / "README.md", "bash")) == 2  # the two setup commands, nothing else to run by hand
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_readme_example_is_the_quickstart_script():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## In Python.*?```python\n(.*?)```", readme, re.S).group(1)
    assert block == (ROOT / "examples" / "quickstart.py").read_text()


def test_the_option_table_is_generated_from_the_configs():
    usage = (ROOT / "docs" / "USAGE.md").read_text()
    table = re.search(r"<!-- options: .*? -->\n(.*?)\n<!-- end of options -->", usage, re.S).group(1)
    assert table == option_table(MultiLabelBertConfig, LabelMaskConfig)
    documented = set(re.findall(r"^\| `--(\w+)`", table, re.M))
    assert documented == set(MultiLabelBertConfig.option_help) | set(LabelMaskConfig.option_help)


@pytest.mark.slow
def test_every_readme_block_runs(workspace):
    skipped = run_document(ROOT / "README.md")
    assert skipped == ['pip install -e ".[cpu]"', 'pip install -e ".[test]"', "ruff check .", "python -m pytest -q"]
    assert (workspace / "outputs" / "goemotions-minilm-quick" / "all_results.json").exists()


@pytest.mark.slow
def test_every_usage_block_runs(workspace):
    assert run_document(ROOT / "docs" / "USAGE.md") == []
    for folder in (
        "run",
        "baseline",
        "stock",
        "full",
        "csv",
        "minilm-mlm",
        "after-mlm",
        "goemotions-rounds",
        "run-few-shot",
        "windows",
    ):
        assert (workspace / "outputs" / folder).is_dir(), folder
    windowed = json.loads((workspace / "outputs" / "windows" / "config.json").read_text())
    assert (windowed["max_windows"], windowed["text_window"]) == (4, 16)
    for line in (workspace / "outputs" / "evidence.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert set(record["evidence"]) == set(record["labels"])
    assert (workspace / "outputs" / "goemotions-rounds" / "order_search.json").exists()
    assert len((workspace / "outputs" / "rounds.jsonl").read_text().splitlines()) == 2


@pytest.mark.slow
def test_quickstart_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = ROOT / "examples" / "quickstart.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    probabilities = [float(x) for x in re.findall(r"\d\.\d+", result.stdout.split("tensor")[-1])]
    assert len(probabilities) == 5 and all(0 < p < 1 for p in probabilities)
    assert (tmp_path / "lmmlc-demo" / "modeling_lmmlc.py").exists()
