"""The synthetic generator of planted label dependencies (`benchmarks/synthetic.py`)."""

import pytest

from benchmarks.synthetic import CUES, synthetic_data


def truth(rows, names):
    return [[name in row["labels"] for name in names] for row in rows]


def test_same_seed_same_rows_and_other_seed_other_rows():
    assert synthetic_data(50, seed=3) == synthetic_data(50, seed=3)
    assert synthetic_data(50, seed=3)[0] != synthetic_data(50, seed=4)[0]


def test_implication_makes_the_group_equal():
    rows, names = synthetic_data(500, seed=0, dependency="implication", group_size=3, free_labels=2)
    assert names == ["a", "b", "c", "x", "y"]
    table = truth(rows, names)
    assert all(t[0] == t[1] == t[2] for t in table)
    assert 0.4 < sum(t[0] for t in table) / 500 < 0.6
    assert any(t[3] != t[0] for t in table)  # free labels are not part of the group


def test_exclusion_makes_exactly_one_true():
    rows, names = synthetic_data(500, seed=0, dependency="exclusion", group_size=3, free_labels=0)
    table = truth(rows, names)
    assert all(sum(t) == 1 for t in table)
    assert all(sum(t[i] for t in table) > 100 for i in range(3))


def test_strength_zero_breaks_the_dependency():
    rows, names = synthetic_data(500, seed=0, dependency="implication", strength=0.0)
    assert 0.35 < sum(t[0] != t[1] for t in truth(rows, names)) / 500 < 0.65


def test_visibility_is_the_share_of_true_labels_whose_cue_shows():
    rows, names = synthetic_data(2000, seed=0, dependency="independent", visibility=0.3, false_cue_prob=0.0)
    shown = [CUES[n] in row["text"].split() for row in rows for n in row["labels"]]
    assert abs(sum(shown) / len(shown) - 0.3) < 0.03
    for row in rows:  # no cue of a false label
        assert all(CUES[n] not in row["text"].split() for n in names if n not in row["labels"])


@pytest.mark.parametrize(
    "options", [{"dependency": "copy"}, {"group_size": 1}, {"free_labels": 9}, {"visibility": 1.5}]
)
def test_bad_settings_are_rejected(options):
    with pytest.raises(ValueError):
        synthetic_data(5, seed=0, **options)
