"""A run's output folder: refused when it holds anything but an earlier lmmlc run's files, cleared (with
`--overwrite_output_dir`) only after every input has been checked, and signed with a manifest of what the run wrote,
so that a later run never deletes a file that no lmmlc run made."""

from __future__ import annotations

import json
import shutil
import sys
from fnmatch import fnmatch
from pathlib import Path

MANIFEST = "lmmlc_run.json"
"""The file that marks a folder as an lmmlc run's output: the command, and what the run wrote (when finished)."""
RUN_OUTPUTS = [
    "checkpoint-*",
    "*_results.json",
    "training_log.jsonl",
    "trainer_state.json",
    "training_args.bin",
    ".saving",
    "config.json",
    "generation_config.json",
    "model*.safetensors",
    "model*.safetensors.index.json",
    "pytorch_model*.bin",
    "*_lmmlc.py",
    "README.md",
    "tokenizer*.json",
    "special_tokens_map.json",
    "vocab.txt",
    "added_tokens.json",
    "order_search.json",
    "runs",
]
"""Names a run may write before it finishes: what a cut-off run's folder may hold besides its manifest."""


def run_command(tool: str, argv: list[str] | None = None) -> str:
    """The command line of this run (`tool` and its options), as the output folder's manifest records it."""
    return " ".join([tool, *(sys.argv[1:] if argv is None else argv)])


def _record(folder: Path) -> dict | None:
    manifest = folder / MANIFEST
    return json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else None


def _present(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != MANIFEST) if folder.is_dir() else []


def run_entries(folder: Path) -> list[str] | None:
    """What earlier lmmlc runs wrote in `folder` (top-level names), or None when no run signed it. A run that did not
    finish owns the names it may write (`RUN_OUTPUTS`), except those that were there before it started."""
    record = _record(folder)
    if record is None:
        return None
    present = _present(folder)
    if record.get("entries") is None:
        foreign = set(record.get("foreign") or [])
        return [n for n in present if n not in foreign and any(fnmatch(n, pattern) for pattern in RUN_OUTPUTS)]
    return [name for name in present if name in record["entries"]]


def check_output_dir(folder: str | Path, overwrite: bool, resume: bool, command: str = "lmmlc-train") -> list[str]:
    """Refuse a non-empty `folder` unless the run resumes, or `overwrite` is given and everything there was written by
    earlier runs of the same `command`; returns the names to clear (nothing is deleted here: `clear_output_dir`, once
    inputs are checked)."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.iterdir()) or resume:
        return []
    if not overwrite:
        raise ValueError(
            f"--output_dir {folder} is not empty: choose a new folder, add --overwrite_output_dir to replace an "
            f"earlier {command} run there, or --resume_from_checkpoint to continue it."
        )
    owned, record = run_entries(folder), _record(folder) or {}
    if owned is None:
        raise ValueError(
            f"--overwrite_output_dir: {folder} holds files that no lmmlc run signed (it has no {MANIFEST}; folders "
            "written before lmmlc signed its runs have none either); nothing was deleted. Choose a new --output_dir, "
            "or empty that folder yourself."
        )
    earlier = str(record.get("command", "")).split(" ")[0]
    if earlier != command:
        raise ValueError(
            f"--overwrite_output_dir: {folder} holds a {earlier} run, not a {command} one; nothing was deleted. "
            "Choose a new --output_dir."
        )
    foreign = sorted(name for name in _present(folder) if name not in owned)
    if foreign:
        raise ValueError(
            f"--overwrite_output_dir: {folder} also holds {', '.join(foreign[:5])}"
            f"{' and more' if len(foreign) > 5 else ''}, which the earlier run did not write; nothing was deleted. "
            "Move them out, or choose a new --output_dir."
        )
    return [*owned, MANIFEST]


def clear_output_dir(folder: str | Path, names: list[str]) -> None:
    """Delete `names` (from `check_output_dir`) in `folder`; missing ones are skipped. Called by the main process
    only, which alone checks, clears and signs the folder."""
    for name in names:
        path = Path(folder) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def sign_output_dir(folder: str | Path, command: str, finished: bool) -> None:
    """Write the manifest. At the start of a run (`finished=False`) it names what the folder already holds that no
    earlier run wrote (nothing, unless the run resumes into a folder with other files); at the end it lists what the
    runs wrote: every top-level name then present, but those."""
    folder = Path(folder)
    earlier = _record(folder) or {}
    foreign = earlier.get("foreign") or []
    if not finished:
        owned = run_entries(folder) or []
        foreign = sorted(set(foreign) | {name for name in _present(folder) if name not in owned})
    folder.mkdir(parents=True, exist_ok=True)
    entries = [name for name in _present(folder) if name not in foreign] if finished else None
    record = {"command": command, "entries": entries, "foreign": foreign}
    (folder / MANIFEST).write_text(json.dumps(record, indent=2), encoding="utf-8")


def record_output(folder: str | Path, name: str) -> None:
    """Add `name`, written into `folder` after its run finished (an order search, a model card), to the run's
    manifest, so that a later `--overwrite_output_dir` clears it as the run's own."""
    folder = Path(folder)
    record = _record(folder)
    if record is None or record.get("entries") is None or name in record["entries"]:
        return
    record["entries"] = sorted([*record["entries"], name])
    record["foreign"] = [n for n in record.get("foreign") or [] if n != name]
    (folder / MANIFEST).write_text(json.dumps(record, indent=2), encoding="utf-8")
