import json

import pytest

from lmmlc.arguments import DataArguments
from lmmlc.data import BUNDLED_DATA, default_data_dir, load_data, multi_hot, read_label_names


def write_split(folder, split, rows):
    (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def data_dir(tmp_path):
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    write_split(tmp_path, "train", [{"text": "x y", "labels": ["a"]}, {"text": "z", "labels": ["b", "c"]}])
    write_split(tmp_path, "validation", [{"text": "v", "labels": []}])
    write_split(tmp_path, "test", [{"text": "t", "labels": ["c"]}])
    return tmp_path


def test_data_dir_loads_every_split_with_the_label_file_order(data_dir):
    data = load_data(DataArguments(data_dir=str(data_dir)))
    assert data.label_names == ["a", "b", "c"]
    assert set(data.splits) == {"train", "validation", "test"}
    assert data.splits["train"][1] == {"text": "z", "labels": ["b", "c"]}
    assert multi_hot(["c", "a"], data.label_names) == [1, 0, 1]


@pytest.mark.parametrize("bundled", [False, True])
def test_the_goemotions_folder_loads_from_shared_and_as_shipped(shared_data, bundled):
    folder = BUNDLED_DATA if bundled else shared_data / "goemotions"
    data = load_data(DataArguments(data_dir=str(folder)))
    assert len(data.label_names) == 28
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 43410, "validation": 5426, "test": 5427}
    if bundled:
        assert default_data_dir() == BUNDLED_DATA  # lmmlc-train without a data option reads the shipped copy
        assert (
            data.splits["test"][0]
            == load_data(DataArguments(data_dir=str(shared_data / "goemotions"))).splits["test"][0]
        )


def test_unknown_label_names_the_file_and_line(data_dir):
    write_split(data_dir, "test", [{"text": "t", "labels": ["c"]}, {"text": "u", "labels": ["d"]}])
    with pytest.raises(ValueError, match=r"test.jsonl, line 2: unknown label 'd'"):
        load_data(DataArguments(data_dir=str(data_dir)))


def test_malformed_json_names_the_line(data_dir):
    with (data_dir / "train.jsonl").open("a") as handle:
        handle.write('{"text": "broken", "labels": [\n')
    with pytest.raises(
        ValueError, match=r"train.jsonl, line 3: not valid JSON .* JSON Lines: one JSON object per line"
    ):
        load_data(DataArguments(data_dir=str(data_dir)))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"labels": ["a"]}, r"no 'text' field \(the --text_column column\); its fields are \['labels'\]"),
        ({"text": " ", "labels": []}, "missing or empty text"),
        ({"text": "x"}, r"no 'labels' field \(the --label_column column\)"),
        ({"text": "x", "labels": "a"}, "labels must be a list"),
        ({"text": 42, "labels": []}, "text must be a string, got int 42"),
        ({"text": "x", "labels": ["a", " "]}, r"an empty label name in \['a', ' '\]; remove it"),
    ],
)
def test_missing_fields_name_the_line(data_dir, row, message):
    write_split(data_dir, "validation", [{"text": "ok", "labels": []}, row])
    with pytest.raises(ValueError, match=rf"validation.jsonl, line 2: {message}"):
        load_data(DataArguments(data_dir=str(data_dir)))


def test_empty_split_is_rejected(data_dir):
    (data_dir / "validation.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"validation\.jsonl has no examples"):
        load_data(DataArguments(data_dir=str(data_dir)))


def test_missing_files_are_named(tmp_path, data_dir):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_data(DataArguments(data_dir=str(tmp_path / "nowhere")))
    (data_dir / "train.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match=r"no train\.jsonl"):
        load_data(DataArguments(data_dir=str(data_dir)))
    with pytest.raises(FileNotFoundError, match=r"missing\.jsonl does not exist"):
        load_data(DataArguments(train_file=str(data_dir / "missing.jsonl")))


@pytest.mark.parametrize(("content", "message"), [("a\na\n", "repeats"), ("\n", "is empty")])
def test_bad_label_files_are_rejected(data_dir, content, message):
    (data_dir / "labels.txt").write_text(content)
    with pytest.raises(ValueError, match=message):
        read_label_names(data_dir / "labels.txt")


def test_label_file_disagreeing_with_a_model_is_rejected(data_dir):
    with pytest.raises(ValueError, match=r"disagrees with the model's labels \(only in the file: \['c'\]"):
        load_data(DataArguments(data_dir=str(data_dir)), label_names=["a", "b", "d"], need_train=False)


def test_csv_files_with_separated_label_names(tmp_path):
    (tmp_path / "train.csv").write_text('text,labels\n"hello, world","a;b"\nbye,\n')
    data = load_data(DataArguments(train_file=str(tmp_path / "train.csv"), label_separator=";"))
    assert data.label_names == ["a", "b"]
    assert data.splits["train"]["labels"] == [["a", "b"], []]


def test_no_data_at_all_says_what_to_give(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("lmmlc.data.default_data_dir", lambda: None)
    with pytest.raises(ValueError, match="--data_dir"):
        load_data(DataArguments())


def test_non_utf8_bytes_name_the_line(data_dir):
    with (data_dir / "train.jsonl").open("ab") as handle:
        handle.write(b'{"text": "caf\xe9", "labels": ["a"]}\n')
    with pytest.raises(ValueError, match=r"train\.jsonl, line 3: not UTF-8 \(byte 0xe9 at column 14\)"):
        load_data(DataArguments(data_dir=str(data_dir)))


def test_duplicate_ids_name_both_lines(data_dir):
    rows = [{"id": "e1", "text": "x", "labels": ["a"]}, {"id": "e2", "text": "y", "labels": []}]
    write_split(data_dir, "test", [*rows, {"id": "e1", "text": "z", "labels": ["b"]}])
    with pytest.raises(ValueError, match=r"test\.jsonl, line 3: duplicate id 'e1' \(first on line 1\)"):
        load_data(DataArguments(data_dir=str(data_dir)))


def test_the_same_id_in_different_splits_is_fine(data_dir):
    write_split(data_dir, "validation", [{"id": 7, "text": "v", "labels": []}])
    write_split(data_dir, "test", [{"id": 7, "text": "t", "labels": ["c"]}])
    assert len(load_data(DataArguments(data_dir=str(data_dir))).splits["test"]) == 1


def test_csv_values_are_strings_without_missing_value_conversion(tmp_path):
    (tmp_path / "labels.txt").write_text("NA\n1\n2\n")
    (tmp_path / "train.csv").write_text("text,labels\nNA,NA\nNone,1\nnull,1;2\n")
    args = DataArguments(train_file=str(tmp_path / "train.csv"), labels_file=str(tmp_path / "labels.txt"))
    data = load_data(DataArguments(**{**vars(args), "label_separator": ";"}))
    assert data.splits["train"]["text"] == ["NA", "None", "null"]
    assert data.splits["train"]["labels"] == [["NA"], ["1"], ["1", "2"]]


def test_a_label_name_holding_the_separator_names_the_option(tmp_path):
    (tmp_path / "labels.txt").write_text("a,b\nc\n")
    (tmp_path / "train.csv").write_text('text,labels\nhello,"a,b"\n')
    with pytest.raises(ValueError, match="--label_separator"):
        load_data(DataArguments(train_file=str(tmp_path / "train.csv"), labels_file=str(tmp_path / "labels.txt")))


@pytest.mark.parametrize("option", ["max_train_samples", "max_eval_samples", "max_predict_samples"])
def test_sample_limits_below_one_are_rejected(option):
    with pytest.raises(ValueError, match=f"--{option}"):
        DataArguments(**{option: 0})


def test_integer_label_names_in_a_tsv_stay_names(tmp_path):
    (tmp_path / "labels.txt").write_text("1\n2\n")
    (tmp_path / "train.tsv").write_text("text\tlabels\n7\t1\n8\t2\n")
    data = load_data(DataArguments(train_file=str(tmp_path / "train.tsv"), labels_file=str(tmp_path / "labels.txt")))
    assert data.splits["train"]["text"] == ["7", "8"] and data.splits["train"]["labels"] == [["1"], ["2"]]


def test_a_byte_order_mark_is_not_part_of_the_first_label_or_row(data_dir):
    (data_dir / "labels.txt").write_bytes(b"\xef\xbb\xbfa\nb\nc\n")
    (data_dir / "train.jsonl").write_bytes(b"\xef\xbb\xbf" + (data_dir / "train.jsonl").read_bytes())
    data = load_data(DataArguments(data_dir=str(data_dir)))
    assert data.label_names == ["a", "b", "c"]
    assert data.splits["train"][0] == {"text": "x y", "labels": ["a"]}


def test_a_bom_before_a_csv_header_still_finds_the_text_column(tmp_path):
    (tmp_path / "train.csv").write_bytes(b"\xef\xbb\xbftext,labels\nhello,a\n")
    assert load_data(DataArguments(train_file=str(tmp_path / "train.csv"))).splits["train"]["text"] == ["hello"]


@pytest.mark.parametrize("content", ['[{"text": "x", "labels": ["a"]}]\n', '[\n  {"text": "x", "labels": ["a"]}\n]\n'])
def test_a_json_array_file_says_one_object_per_line(data_dir, content):
    (data_dir / "train.json").write_text(content)
    (data_dir / "train.jsonl").unlink()
    with pytest.raises(
        ValueError, match=r"train\.json holds a JSON array; lmmlc reads JSON Lines: one object per line"
    ):
        load_data(DataArguments(data_dir=str(data_dir)))


def test_a_text_column_missing_from_the_data_is_named(data_dir, tmp_path):
    with pytest.raises(ValueError, match=r"train\.jsonl, line 1: no 'body' field \(the --text_column column\)"):
        load_data(DataArguments(data_dir=str(data_dir), text_column="body"))
    (tmp_path / "t.csv").write_text("text,labels\nhello,a\n")
    with pytest.raises(ValueError, match=r"t\.csv has no column 'body' \(the --text_column column\)"):
        load_data(DataArguments(train_file=str(tmp_path / "t.csv"), text_column="body"))


def test_label_names_from_the_data_are_stripped_and_never_empty(data_dir):
    (data_dir / "labels.txt").unlink()
    write_split(data_dir, "train", [{"text": "x", "labels": ["joy "]}, {"text": "y", "labels": ["joy", "anger"]}])
    write_split(data_dir, "validation", [{"text": "v", "labels": [" anger"]}])
    write_split(data_dir, "test", [{"text": "t", "labels": []}])
    files = {f"{split}_file": str(data_dir / f"{split}.jsonl") for split in ("train", "validation", "test")}
    data = load_data(DataArguments(**files))
    assert data.label_names == ["anger", "joy"]
    assert data.splits["train"][0]["labels"] == ["joy"] and data.splits["validation"][0]["labels"] == ["anger"]
    write_split(data_dir, "train", [{"text": "x", "labels": [""]}])
    with pytest.raises(ValueError, match="an empty label name"):
        load_data(DataArguments(**files))
