"""Searching a fixed label reveal order: random search and a genetic algorithm, both seeded and budgeted."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Order = list[int]


@dataclass
class SearchResult:
    """The best order found, its score, and (evaluations so far, best score) after each evaluation."""

    order: Order
    score: float
    history: list[tuple[int, float]] = field(default_factory=list)


class _Budget:
    """Scores orders with `score`, once per distinct order, at most `budget` times."""

    def __init__(self, score: Callable[[Order], float], budget: int) -> None:
        if budget < 1:
            raise ValueError(f"The search budget must be >= 1 evaluation, got {budget}.")
        self.score, self.budget, self.seen = score, budget, {}
        self.best = SearchResult([], float("-inf"))

    @property
    def left(self) -> int:
        return self.budget - len(self.seen)

    def __call__(self, order: Order) -> float:
        key = tuple(order)
        if key not in self.seen:
            if self.left <= 0:
                return float("-inf")
            self.seen[key] = float(self.score(list(order)))
            if self.seen[key] > self.best.score:
                self.best.order, self.best.score = list(order), self.seen[key]
            self.best.history.append((len(self.seen), self.best.score))
        return self.seen[key]


def random_search(score: Callable[[Order], float], n: int, budget: int, seed: int, start: Sequence[Order] = ()):
    """Score `start` orders, then uniformly random permutations of range(n), until the budget is spent."""
    rng, evaluate = random.Random(seed), _Budget(score, budget)
    for order in start:
        evaluate(list(order))
    tries = 0
    while evaluate.left > 0 and tries < 100 * budget:
        evaluate(rng.sample(range(n), n))
        tries += 1
    return evaluate.best


def genetic_search(
    score: Callable[[Order], float],
    n: int,
    budget: int,
    seed: int,
    start: Sequence[Order] = (),
    population: int = 8,
    mutation: float = 0.3,
) -> SearchResult:
    """A permutation GA: tournament selection, order crossover (OX1), swap mutation, elitism.

    Args:
        score: higher is better; called at most `budget` times (distinct orders only).
        start: orders put into the first population (e.g. one_shot confidence order).
    """
    rng, evaluate = random.Random(seed), _Budget(score, budget)
    pool = [list(o) for o in start][:population]
    pool += [rng.sample(range(n), n) for _ in range(population - len(pool))]
    fitness = [evaluate(order) for order in pool]
    stalls = 0
    while evaluate.left > 0 and stalls < 100:
        child = _mutate(_crossover(_pick(pool, fitness, rng), _pick(pool, fitness, rng), rng), mutation, rng)
        known = tuple(child) in evaluate.seen
        value = evaluate(child)
        stalls = stalls + 1 if known else 0
        worst = min(range(len(pool)), key=fitness.__getitem__)
        if value > fitness[worst] and child not in pool:
            pool[worst], fitness[worst] = child, value
    return evaluate.best


def _pick(pool: list[Order], fitness: list[float], rng: random.Random) -> Order:
    a, b = rng.randrange(len(pool)), rng.randrange(len(pool))
    return pool[a] if fitness[a] >= fitness[b] else pool[b]


def _crossover(first: Order, second: Order, rng: random.Random) -> Order:
    """OX1: a slice of `first` in place, the rest in `second`'s order."""
    n = len(first)
    i, j = sorted(rng.sample(range(n + 1), 2))
    kept = first[i:j]
    rest = [g for g in second if g not in set(kept)]
    return rest[:i] + kept + rest[i:]


def _mutate(order: Order, rate: float, rng: random.Random) -> Order:
    order = list(order)
    while rng.random() < rate:
        a, b = rng.randrange(len(order)), rng.randrange(len(order))
        order[a], order[b] = order[b], order[a]
    return order
