"""`lmmlc-push`: write the model card of a trained folder and upload the folder to the Hugging Face Hub."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import HfApi, get_token
from huggingface_hub.repocard import metadata_load
from transformers import HfArgumentParser

from .find_order import STALE_KEY
from .model_card import build_model_card
from .output_dir import record_output

MODEL_TYPES = ("lmmlc", "lmmlc_baseline")
REQUIRED_FILES = ("config.json", "configuration_lmmlc.py", "modeling_lmmlc.py", "model.safetensors")
LOCAL_IMPORT = re.compile(r"^from \.(\w+) import", re.MULTILINE)
"""A relative import in a remote-code file: the file it names must travel with it."""
HANDLER_SOURCE = Path(__file__).with_name("handler.py")
"""Uploaded as the repository's `handler.py`: an Inference Endpoints custom handler (imports only transformers)."""
IGNORED = ["checkpoint-*", "checkpoint-*/**", "*.bin", "*.pt", "*.pkl", "runs/**", ".*", "lmmlc_run.json"]
"""Never uploaded: Trainer checkpoints, pickles (training_args.bin), hidden files and the run's local manifest."""


@dataclass
class PushArguments:
    model_path: str = field(metadata={"help": "A trained lmmlc model folder (lmmlc-train's output_dir)."})
    repo_id: str = field(metadata={"help": "Hub repository, e.g. your-name/goemotions-lmmlc."})
    private: bool = field(default=False, metadata={"help": "Create the repository as private."})
    revision: str | None = field(default=None, metadata={"help": "Branch to push to (created when missing)."})
    commit_message: str = field(default="Upload lmmlc model", metadata={"help": "Commit message."})
    license: str = field(default="apache-2.0", metadata={"help": "License in the card's metadata."})
    datasets: list[str] | None = field(default=None, metadata={"help": "Hub dataset ids for the card."})
    base_model: str | None = field(default=None, metadata={"help": "Hub id of the encoder, for the card."})
    token: str | None = field(default=None, metadata={"help": "Hub token (default: HF_TOKEN or the login)."})
    dry_run: bool = field(default=False, metadata={"help": "Write the card and list the files; upload nothing."})


def check_trained_folder(folder: Path) -> None:
    """Refuse folders that are not complete trained lmmlc models, saying what is missing."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: give lmmlc-train's --output_dir.")
    config = folder / "config.json"
    if config.exists() and json.loads(config.read_text(encoding="utf-8")).get("model_type") == "bert":
        raise ValueError(
            f"{folder} holds a stock transformers model (lmmlc-train --model_type stock): it needs no remote code "
            "and has no lmmlc model card, so lmmlc-push does not upload it. Upload it as any transformers model: "
            "`hf upload <repo_id> <folder>` or `model.push_to_hub(repo_id)`."
        )
    missing = [name for name in REQUIRED_FILES if not (folder / name).exists()]
    missing += [name for name in remote_code_files(folder) if not (folder / name).exists()]
    if missing:
        raise ValueError(
            f"{folder} is not a trained lmmlc model: missing {', '.join(missing)}. Train with lmmlc-train."
        )
    check_card_is_ours(folder / "README.md")
    check_handler_is_ours(folder / "handler.py")
    check_results_current(folder)
    model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    if model_type not in MODEL_TYPES:
        raise ValueError(f"{folder} holds a {model_type!r} model, not an lmmlc one ({', '.join(MODEL_TYPES)}).")
    missing_tokenizer = [name for name in ("tokenizer_config.json", "tokenizer.json") if not (folder / name).exists()]
    if missing_tokenizer:
        raise ValueError(
            f"{folder} has no complete tokenizer (missing {', '.join(missing_tokenizer)}): without it the Hub model "
            "would load another vocabulary. Save the model's tokenizer beside it (lmmlc-train does)."
        )


def check_results_current(folder: Path) -> None:
    """Refuse metrics scored with a decoder the config no longer ships (lmmlc-find-order stored a fixed order
    after lmmlc-train scored them): the card would show another decoder's figures."""
    path = folder / "all_results.json"
    results = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if STALE_KEY in results:
        raise ValueError(
            f"{path} was scored with the {results[STALE_KEY]} decoder, but the model now ships a fixed order "
            f"(lmmlc-find-order): rescore it with `lmmlc-evaluate --model_path {folder} --output_file {path}` and the "
            "data, then push."
        )


def check_card_is_ours(path: Path) -> None:
    """Refuse to replace a README.md that lmmlc did not write (its metadata lacks the `lmmlc` tag): pushing, even
    with --dry_run, writes the model card there."""
    if not path.exists():
        return
    try:
        metadata = metadata_load(path) or {}
    except (yaml.YAMLError, ValueError):  # unreadable front matter: not a card lmmlc wrote
        metadata = {}
    tags = metadata.get("tags")
    if not (isinstance(tags, list) and "lmmlc" in tags):
        raise ValueError(
            f"{path} was not written by lmmlc (no `lmmlc` tag in its metadata), and lmmlc-push writes the model card "
            "there: move your README.md out of the folder first (nothing was written or uploaded)."
        )


def check_handler_is_ours(path: Path) -> None:
    """Refuse to replace a handler.py that is not lmmlc's, of this version or an earlier one (its first line is
    lmmlc's): lmmlc-push writes its Inference Endpoints handler there."""
    ours = HANDLER_SOURCE.read_text(encoding="utf-8").splitlines()[0]
    if path.exists() and path.read_text(encoding="utf-8").splitlines()[:1] != [ours]:
        raise ValueError(
            f"{path} is not lmmlc's Inference Endpoints handler, and lmmlc-push writes it there: move your handler.py "
            "out of the folder first (nothing was written or uploaded)."
        )


def remote_code_files(folder: Path) -> list[str]:
    """The files `modeling_lmmlc.py` in `folder` imports, directly or through each other (older models
    import fewer), sorted."""
    found, todo = set(), ["modeling_lmmlc"]
    while todo:
        path = folder / f"{todo.pop()}.py"
        names = set(LOCAL_IMPORT.findall(path.read_text(encoding="utf-8"))) if path.exists() else set()
        todo += sorted(names - found)
        found |= names
    return sorted(f"{name}.py" for name in found)


def files_to_upload(folder: Path) -> list[str]:
    """Paths relative to `folder` that the upload sends, sorted."""
    paths = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return sorted(p for p in paths if not any(fnmatch.fnmatch(p, pattern) for pattern in IGNORED))


def push(args: PushArguments, api: Any | None = None) -> list[str]:
    """Check, write README.md, then (unless dry run) create the repo and upload; returns the uploaded paths."""
    folder = Path(args.model_path)
    check_trained_folder(folder)
    token = args.token or get_token()
    if token is None and not args.dry_run:
        raise ValueError("No Hugging Face token: run `hf auth login`, set HF_TOKEN, or pass --token.")
    card = build_model_card(folder, args.repo_id, args.license, args.datasets, args.base_model)
    card.save(folder / "README.md")
    record_output(folder, "README.md")  # lmmlc's card: the run's own file for a later --overwrite_output_dir
    shutil.copyfile(HANDLER_SOURCE, folder / "handler.py")
    record_output(folder, "handler.py")
    files = files_to_upload(folder)
    if args.dry_run:
        return files
    api = api or HfApi(token=token)
    api.create_repo(args.repo_id, private=args.private, exist_ok=True, repo_type="model")
    if args.revision:
        api.create_branch(args.repo_id, branch=args.revision, exist_ok=True)
    api.upload_folder(
        repo_id=args.repo_id,
        folder_path=str(folder),
        revision=args.revision,
        commit_message=args.commit_message,
        ignore_patterns=IGNORED,
    )
    return files


def main(argv: list[str] | None = None) -> None:
    (args,) = HfArgumentParser(PushArguments).parse_args_into_dataclasses(argv)
    files = push(args)
    verb = "Would upload" if args.dry_run else "Uploaded"
    print(f"{verb} {len(files)} files to {args.repo_id}:\n" + "\n".join(f"  {name}" for name in files))
