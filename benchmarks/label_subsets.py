"""Label-count subsets of a multi-label data set: keep its N most frequent training labels, drop the others from
every example, and drop the examples left without a label (an example that had none in the source keeps none).

Each subset is a data folder of its own (train/validation/test.jsonl, labels.txt, SOURCE.md), split as the source
is split, so the label-count benchmark (`benchmarks.label_count`) can train on it like on any shared data set.

    python -m benchmarks.label_subsets --source ../shared/data/cooking-stackexchange --top 100 250 \\
        --output_root outputs/data                  # -> outputs/data/cooking-stackexchange-top{100,250}/
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

SPLITS = ("train", "validation", "test")


def read_rows(path: Path) -> list[dict]:
    """The `{"text", "labels"}` rows of a JSON Lines file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def top_labels(train: list[dict], labels: list[str], top: int) -> list[str]:
    """The `top` most frequent training labels, ties broken by the labels file's order; in that order."""
    if not 1 <= top <= len(labels):
        raise ValueError(f"--top {top}: choose between 1 and the source's {len(labels)} labels.")
    counts = Counter(name for row in train for name in row["labels"])
    rank = sorted(range(len(labels)), key=lambda i: (-counts[labels[i]], i))
    kept = set(rank[:top])
    return [name for i, name in enumerate(labels) if i in kept]


def restrict(rows: list[dict], kept: set[str]) -> list[dict]:
    """`rows` with only the `kept` labels; an example that loses every label is dropped, one that had none stays."""
    out = []
    for row in rows:
        labels = [name for name in row["labels"] if name in kept]
        if labels or not row["labels"]:
            out.append({"text": row["text"], "labels": labels})
    return out


def build_subset(source: Path, top: int, output: Path) -> dict[str, int]:
    """Write the `top`-label subset of `source` to `output`; returns the rows per split. Refuses to overwrite a
    folder that is not empty."""
    labels = (source / "labels.txt").read_text(encoding="utf-8").split("\n")
    labels = [name for name in labels if name.strip()]
    splits = {split: read_rows(source / f"{split}.jsonl") for split in SPLITS if (source / f"{split}.jsonl").exists()}
    if "train" not in splits:
        raise FileNotFoundError(f"{source} has no train.jsonl.")
    if output.exists() and any(output.iterdir()):
        raise FileExistsError(f"{output} is not empty; remove it or choose another --output_root.")
    kept = top_labels(splits["train"], labels, top)
    output.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for split, rows in splits.items():
        subset = restrict(rows, set(kept))
        sizes[split] = len(subset)
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in subset)
        (output / f"{split}.jsonl").write_text(lines, encoding="utf-8")
    (output / "labels.txt").write_text("\n".join(kept) + "\n", encoding="utf-8")
    sized = ", ".join(f"{split} {n:,}" for split, n in sizes.items())
    (output / "SOURCE.md").write_text(
        f"# {output.name}\n\nThe {top} most frequent training labels of `{source.name}` (its SOURCE.md gives the "
        f"data and licence), built by `python -m benchmarks.label_subsets`: other labels removed, examples left "
        f"without a label dropped, splits as in the source. Rows: {sized}.\n",
        encoding="utf-8",
    )
    return sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="A data folder: train/validation/test.jsonl, labels.txt.")
    parser.add_argument("--top", type=int, nargs="+", required=True, help="Label counts to keep.")
    parser.add_argument("--output_root", default="outputs/data")
    args = parser.parse_args(argv)
    source = Path(args.source)
    for top in args.top:
        output = Path(args.output_root) / f"{source.name}-top{top}"
        print(output, build_subset(source, top, output))


if __name__ == "__main__":
    main()
