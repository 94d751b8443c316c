"""A run's output folder: refused when it holds anything but an earlier lmmlc run's files, cleared (with
`--overwrite_output_dir`) only after every input has been checked, and signed with a manifest of what the run wrote,
so that a later run never deletes a file that no lmmlc run made."""

from __future__ import annotations

import json
import shutil
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


def run_entries(folder: Path) -> list[str] | None:
    """What an earlier lmmlc run wrote in `folder` (top-level names), or None when no run signed it. A run that did
    not finish leaves the names it may write (`RUN_OUTPUTS`) as its own."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    record = json.loads(manifest.read_text(encoding="utf-8"))
    present = [p.name for p in folder.iterdir() if p.name != MANIFEST]
    if record.get("entries") is None:
        return [name for name in present if any(fnmatch(name, pattern) for pattern in RUN_OUTPUTS)]
    return [name for name in present if name in record["entries"]]


def check_output_dir(folder: str | Path, overwrite: bool, resume: bool, command: str = "lmmlc-train") -> list[str]:
    """Refuse a non-empty `folder` unless the run resumes, or `overwrite` is given and everything there is an earlier
    lmmlc run's; returns the names to clear (nothing is deleted here: `clear_output_dir`, once inputs are checked)."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.iterdir()) or resume:
        return []
    if not overwrite:
        raise ValueError(
            f"--output_dir {folder} is not empty: choose a new folder, add --overwrite_output_dir to replace an "
            f"earlier {command} run there, or --resume_from_checkpoint to continue it."
        )
    owned = run_entries(folder)
    if owned is None:
        raise ValueError(
            f"--overwrite_output_dir: {folder} holds files that no lmmlc run wrote (it has no {MANIFEST}); nothing "
            "was deleted. Choose a new --output_dir, or empty that folder yourself."
        )
    foreign = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST and p.name not in owned)
    if foreign:
        raise ValueError(
            f"--overwrite_output_dir: {folder} also holds {', '.join(foreign[:5])}"
            f"{' and more' if len(foreign) > 5 else ''}, which the earlier run did not write; nothing was deleted. "
            "Move them out, or choose a new --output_dir."
        )
    return [*owned, MANIFEST]


def clear_output_dir(folder: str | Path, names: list[str]) -> None:
    """Delete `names` (from `check_output_dir`) in `folder`; missing ones are skipped (every process of a
    multi-process run clears the folder)."""
    for name in names:
        path = Path(folder) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def sign_output_dir(folder: str | Path, command: str, finished: bool) -> None:
    """Write the manifest: at the start of a run (`finished=False`: the folder holds nothing else yet, or the run's
    earlier files when it resumes), and when it has saved everything (every top-level name then present)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST) if finished else None
    (folder / MANIFEST).write_text(json.dumps({"command": command, "entries": entries}, indent=2), encoding="utf-8")
