import itertools

import pytest

from lmmlc.order_search import genetic_search, random_search


def closeness(target):
    """Fraction of label pairs in the same relative order as `target` (1 = target itself)."""
    where = {label: i for i, label in enumerate(target)}

    def score(order):
        pairs = list(itertools.combinations(order, 2))
        return sum(where[a] < where[b] for a, b in pairs) / len(pairs)

    return score


TARGET = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5]


@pytest.mark.parametrize("search", [random_search, genetic_search])
def test_search_returns_a_permutation_within_budget(search):
    calls = []
    score = closeness(TARGET)
    result = search(lambda order: calls.append(order) or score(order), n=10, budget=40, seed=0)
    assert sorted(result.order) == list(range(10))
    assert len(calls) <= 40 and len({tuple(c) for c in calls}) == len(calls)
    assert result.score == max(score(c) for c in calls) == score(result.order)
    assert [s for _, s in result.history] == sorted(s for _, s in result.history)


@pytest.mark.parametrize("search", [random_search, genetic_search])
def test_search_is_seeded(search):
    first, again = (search(closeness(TARGET), n=10, budget=30, seed=3) for _ in range(2))
    assert first.order == again.order and first.history == again.history


def test_genetic_search_beats_random_search_on_a_structured_score():
    score = closeness(TARGET)
    wins = 0
    for seed in range(5):
        genetic = genetic_search(score, n=10, budget=300, seed=seed)
        random_ = random_search(score, n=10, budget=300, seed=seed)
        wins += genetic.score > random_.score
    assert wins >= 4


def test_start_orders_are_scored_first():
    result = random_search(closeness(TARGET), n=10, budget=1, seed=0, start=[TARGET])
    assert result.order == TARGET and result.score == 1.0


def test_zero_budget_is_rejected():
    with pytest.raises(ValueError, match="budget"):
        genetic_search(closeness(TARGET), n=10, budget=0, seed=0)
