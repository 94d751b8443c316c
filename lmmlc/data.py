"""Loading multi-label datasets (a data folder, csv/tsv/jsonl files or a Hub id) and checking them."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import datasets

if TYPE_CHECKING:  # the command-line options are read, never imported at run time
    from .arguments import DataArguments

SPLITS = ("train", "validation", "test")
SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".csv", ".tsv")


@dataclass
class MultiLabelData:
    """The splits (each with `text` and `labels` = list of names) and the label names."""

    splits: datasets.DatasetDict
    label_names: list[str]


BUNDLED_DATA = Path(__file__).resolve().parents[1] / "data" / "goemotions"
"""GoEmotions as shipped with the repository (compressed JSON Lines, CC BY 4.0: its SOURCE.md)."""


def default_data_dir() -> Path | None:
    """GoEmotions: the repository's `data/goemotions`, else `../shared/data/goemotions` beside the working directory
    or beside this checkout, when present."""
    shared = [base.parent / "shared/data/goemotions" for base in (Path.cwd(), Path(__file__).resolve().parents[1])]
    for folder in (BUNDLED_DATA, *shared):
        if (folder / "labels.txt").exists():
            return folder
    return None


def read_label_names(path: str | Path) -> list[str]:
    """One label name per line; blank lines ignored; duplicates rejected."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Label file {path} does not exist; give --labels_file or put labels.txt in --data_dir."
        )
    text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark is not part of the first name
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise ValueError(f"Label file {path} is empty: list one label name per line.")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"Label file {path} repeats {repeated}; each label once.")
    return names


def split_files(data_dir: str | Path, need_train: bool = True) -> dict[str, Path]:
    """The split files of a data folder: `{train,validation,test}.{jsonl,jsonl.gz,json,csv,tsv}`."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"Data folder {data_dir} does not exist.")
    files = {}
    for split in SPLITS:
        found = [data_dir / f"{split}{suffix}" for suffix in SUFFIXES if (data_dir / f"{split}{suffix}").exists()]
        if found:
            files[split] = found[0]
    if need_train and "train" not in files:
        raise FileNotFoundError(f"{data_dir} has no train.jsonl (or .json/.csv/.tsv); it needs at least a train split.")
    return files


def open_data_file(path: Path) -> BinaryIO:
    """A data file opened for reading bytes: gzip-decompressed when it ends in `.gz` (`train.jsonl.gz`)."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def read_json_lines(path: Path, fields: dict[str, str], required: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows of a JSON Lines file as `{name: row.get(column)}` for `fields` = {name: column}, plus `_line`.

    Args:
        required: {name: option} of the fields every row must have; a row without one is refused, naming the
            column and the option that chose it.
    """
    rows = []
    with open_data_file(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}, line {number}: not UTF-8 (byte {raw[error.start]:#04x} at column {error.start + 1}); "
                    "re-encode the file as UTF-8."
                ) from None
            if not line.strip():
                continue
            if not rows and line.lstrip().startswith("["):
                raise ValueError(
                    f"{path} holds a JSON array; lmmlc reads JSON Lines: one object per line, "
                    '{"text": ..., "labels": [...]}, with no enclosing [ ].'
                )
            rows.append(_json_row(line, f"{path}, line {number}", fields, required or {}) | {"_line": number})
    return rows


def _json_row(line: str, where: str, fields: dict[str, str], required: dict[str, str]) -> dict[str, Any]:
    """One JSON Lines row as `{name: row.get(column)}`; `where` names the file and line in errors."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        names = ", ".join(repr(column) for column in fields.values())
        raise ValueError(
            f"{where}: not valid JSON ({error.msg}). The file must be JSON Lines: one JSON object per line, with the "
            f"fields {names}."
        ) from None
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}.")
    for name, option in required.items():
        if fields[name] not in row:
            raise ValueError(f"{where}: no {fields[name]!r} field (the {option} column); its fields are {sorted(row)}.")
    return {name: row.get(column) for name, column in fields.items()}


def _read_table(path: Path, text_column: str, label_column: str, separator: str) -> list[dict[str, Any]]:
    """Rows of a csv/tsv file; every cell is the string as written ("NA", "None", "1" stay text)."""
    delimiter = "\t" if path.suffix == ".tsv" else ","
    try:
        return _table_rows(path, delimiter, text_column, label_column, separator)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 ({error.reason}); re-encode the file as UTF-8.") from None


def _table_rows(path: Path, delimiter: str, text_column: str, label_column: str, separator: str) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter, restval="")
        columns = reader.fieldnames or []
        missing = [c for c in (text_column, label_column) if c not in columns]
        if missing:
            option = "--text_column" if missing[0] == text_column else "--label_column"
            raise ValueError(f"{path} has no column {missing[0]!r} (the {option} column); its columns are {columns}.")
        rows, line = [], 2  # line 1 is the header
        for row in reader:
            labels = [name.strip() for name in (row[label_column] or "").split(separator) if name.strip()]
            rows.append({"text": row[text_column], "labels": labels, "_line": line})
            line = reader.line_num + 1
    return rows


def check_text(text: Any, where: str, field: str = "text") -> None:
    """Reject a missing, non-string or blank text; `where` names the file and line."""
    if text is not None and not isinstance(text, str):
        raise ValueError(f"{where}: {field} must be a string, got {type(text).__name__} {text!r}.")
    if text is None or not text.strip():
        raise ValueError(f"{where}: missing or empty {field}.")


def _check_rows(rows: list[dict[str, Any]], path: Path, known: set[str] | None) -> None:
    """Reject rows without text or labels, label names outside `known` and repeated ids (file and line named)."""
    if not rows:
        raise ValueError(f"{path} has no examples: the split is empty.")
    first_line: dict[Any, int] = {}
    for row in rows:
        where = f"{path}, line {row['_line']}"
        if row.get("id") is not None:
            key = json.dumps(row["id"])
            if key in first_line:
                raise ValueError(f"{where}: duplicate id {row['id']!r} (first on line {first_line[key]}).")
            first_line[key] = row["_line"]
        check_text(row["text"], where)
        if not isinstance(row["labels"], list) or not all(isinstance(n, str) for n in row["labels"]):
            raise ValueError(f"{where}: labels must be a list of label names, got {row['labels']!r}.")
        if not all(n.strip() for n in row["labels"]):
            raise ValueError(f"{where}: an empty label name in {row['labels']!r}; remove it.")
        row["labels"] = [n.strip() for n in row["labels"]]  # "joy " is the label file's "joy"
        unknown = [n for n in row["labels"] if known is not None and n not in known]
        if unknown:
            raise ValueError(f"{where}: unknown label {unknown[0]!r}; it is not in the label file.")


def _check_separator(label_names: list[str], separator: str) -> None:
    """Reject label names that csv/tsv label columns could not hold (they contain the separator)."""
    clashing = [name for name in label_names if separator in name]
    if clashing:
        raise ValueError(
            f"Label {clashing[0]!r} contains the label separator {separator!r}, so csv/tsv label columns cannot "
            "name it: choose another --label_separator (e.g. ';' or '|')."
        )


def load_files(
    files: dict[str, str | Path],
    label_names: list[str] | None = None,
    text_column: str = "text",
    label_column: str = "labels",
    label_separator: str = ",",
) -> MultiLabelData:
    """Read and check split files (JSON Lines, csv or tsv with label names separated by `label_separator`).

    Without `label_names`, the sorted names seen in the train split are used.
    """
    tables = [Path(path) for path in files.values() if Path(path).suffix in (".csv", ".tsv")]
    if tables and label_names is not None:
        _check_separator(label_names, label_separator)
    rows = {}
    for split, path in files.items():
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"The {split} file {path} does not exist.")
        if path.suffix in (".jsonl", ".json", ".gz"):
            fields = {"text": text_column, "labels": label_column, "id": "id"}
            rows[split] = read_json_lines(path, fields, {"text": "--text_column", "labels": "--label_column"})
        else:
            rows[split] = _read_table(path, text_column, label_column, label_separator)
        _check_rows(rows[split], path, None if label_names is None else set(label_names))
    if label_names is None:
        if "train" not in rows:
            raise ValueError("Without a label file the label names come from the train split; give --labels_file.")
        label_names = sorted({n for row in rows["train"] for n in row["labels"]})
        for split, path in files.items():
            _check_rows(rows[split], Path(path), set(label_names))
    splits = datasets.DatasetDict(
        {
            s: datasets.Dataset.from_list([{"text": r["text"], "labels": r["labels"]} for r in v])
            for s, v in rows.items()
        }
    )
    return MultiLabelData(splits, label_names)


def load_data(args: DataArguments, label_names: list[str] | None = None, need_train: bool = True) -> MultiLabelData:
    """The data the arguments point at: files, else a data folder (default: GoEmotions), else a Hub id.

    Args:
        label_names: the labels of a trained model; the data's label file must agree with them.
        need_train: whether a train split is required.
    """
    named = {"train": args.train_file, "validation": args.validation_file, "test": args.test_file}
    files = {split: Path(path) for split, path in named.items() if path}
    data_dir = args.data_dir or (None if files or args.dataset_name else default_data_dir())
    if not files and data_dir:
        files = split_files(data_dir, need_train)
    if files:
        if need_train and "train" not in files:
            raise ValueError("No train split: give --train_file or a --data_dir with train.jsonl.")
        labels_file = args.labels_file or (Path(data_dir) / "labels.txt" if data_dir else None)
        names = read_label_names(labels_file) if labels_file else None
        _check_agreement(names, label_names, labels_file)
        return load_files(files, names or label_names, args.text_column, args.label_column, args.label_separator)
    if args.dataset_name:
        return load_hub_dataset(args.dataset_name, args.dataset_config_name, args.text_column, args.label_column)
    raise ValueError("No data: give --data_dir, --train_file/--validation_file/--test_file or --dataset_name.")


def _check_agreement(file_names: list[str] | None, model_names: list[str] | None, labels_file: Path | None) -> None:
    if file_names is not None and model_names is not None and file_names != model_names:
        extra, missing = sorted(set(file_names) - set(model_names)), sorted(set(model_names) - set(file_names))
        raise ValueError(
            f"The label file {labels_file} disagrees with the model's labels (only in the file: {extra}; "
            f"only in the model: {missing}; or another order). Use the model's label list."
        )


def select(dataset: datasets.Dataset, limit: int | None) -> datasets.Dataset:
    """The first `limit` examples (all when None)."""
    return dataset if limit is None else dataset.select(range(min(limit, len(dataset))))


def load_hub_dataset(
    name: str, config_name: str | None = None, text_column: str = "text", label_column: str = "labels"
) -> MultiLabelData:
    """A Hub dataset whose label column is a list of class indices or names (needs internet)."""
    raw = datasets.load_dataset(name, config_name)
    feature = raw["train"].features[label_column]
    to_name: Callable[[Any], str] = getattr(getattr(feature, "feature", None), "int2str", str)
    names = list(getattr(getattr(feature, "feature", None), "names", None) or [])
    splits = datasets.DatasetDict(
        {
            {"dev": "validation"}.get(split, split): ds.map(
                lambda row: {"text": row[text_column], "labels": [to_name(x) for x in row[label_column]]},
                remove_columns=ds.column_names,
            )
            for split, ds in raw.items()
        }
    )
    if not names:
        names = sorted({n for row in splits["train"]["labels"] for n in row})
    return MultiLabelData(splits, names)


def multi_hot(names: list[str], label_names: list[str]) -> list[int]:
    """A 0/1 vector over `label_names`."""
    chosen = set(names)
    return [int(name in chosen) for name in label_names]
