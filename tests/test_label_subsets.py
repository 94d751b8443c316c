import json

import pytest

from benchmarks.label_subsets import build_subset, main, top_labels


def write_source(folder, splits):
    folder.mkdir()
    labels = sorted({name for rows in splits.values() for row in rows for name in row["labels"]})
    (folder / "labels.txt").write_text("\n".join(labels) + "\n")
    for split, rows in splits.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return labels


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


SPLITS = {
    "train": [
        {"text": "t1", "labels": ["a", "b"]},
        {"text": "t2", "labels": ["a"]},
        {"text": "t3", "labels": ["c"]},
        {"text": "t4", "labels": ["b", "d"]},
        {"text": "t5", "labels": []},
        {"text": "t6", "labels": ["a", "c"]},
    ],
    "validation": [{"text": "v1", "labels": ["d"]}, {"text": "v2", "labels": ["b", "d"]}],
    "test": [{"text": "s1", "labels": ["c", "d"]}, {"text": "s2", "labels": ["a"]}],
}


def test_the_most_frequent_training_labels_are_kept_in_label_file_order(tmp_path):
    labels = write_source(tmp_path / "src", SPLITS)
    assert top_labels(SPLITS["train"], labels, 2) == ["a", "b"]  # a: 3, b: 2, c: 2 (b first in the file), d: 1
    assert top_labels(SPLITS["train"], labels, 3) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="between 1 and the source's 4 labels"):
        top_labels(SPLITS["train"], labels, 5)


def test_a_subset_drops_other_labels_and_examples_left_without_one(tmp_path):
    write_source(tmp_path / "src", SPLITS)
    sizes = build_subset(tmp_path / "src", 2, tmp_path / "out")
    assert (tmp_path / "out" / "labels.txt").read_text().split() == ["a", "b"]
    train = read(tmp_path / "out" / "train.jsonl")
    assert train == [
        {"text": "t1", "labels": ["a", "b"]},
        {"text": "t2", "labels": ["a"]},
        {"text": "t4", "labels": ["b"]},
        {"text": "t5", "labels": []},  # the source had no label here: kept as it was
        {"text": "t6", "labels": ["a"]},
    ]
    assert read(tmp_path / "out" / "validation.jsonl") == [{"text": "v2", "labels": ["b"]}]
    assert read(tmp_path / "out" / "test.jsonl") == [{"text": "s2", "labels": ["a"]}]
    assert sizes == {"train": 5, "validation": 1, "test": 1}
    for split in sizes:  # each subset split comes from its own source split only (so disjoint splits stay disjoint)
        source = {row["text"] for row in SPLITS[split]}
        assert {row["text"] for row in read(tmp_path / "out" / f"{split}.jsonl")} <= source
    assert "benchmarks.label_subsets" in (tmp_path / "out" / "SOURCE.md").read_text()


def test_an_existing_subset_is_not_overwritten(tmp_path):
    write_source(tmp_path / "src", SPLITS)
    main(["--source", str(tmp_path / "src"), "--top", "2", "--output_root", str(tmp_path / "data")])
    assert (tmp_path / "data" / "src-top2" / "train.jsonl").is_file()
    with pytest.raises(FileExistsError, match="not empty"):
        main(["--source", str(tmp_path / "src"), "--top", "2", "--output_root", str(tmp_path / "data")])
