"""Rank tests both sides use between groups of repeats, and the family-wise correction for
many of them at once.

Standard library only, like the rest of the contract. Every p-value here is
exact or a permutation p-value wherever the samples are small enough that an
approximation would mislead (and the tests check each against SciPy at the sizes
the experiments and the diff use); the distributions live in `distributions`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

# --------------------------------------------------------------------------
# Ranks


def check_samples(groups: Sequence[Sequence[float]]) -> None:
    """Refuse an empty sample or a value that is not a finite number: no test here can say
    anything true about them."""
    for group in groups:
        if len(group) == 0:
            raise ValueError("every sample needs at least one value")
        if not all(math.isfinite(v) for v in group):
            raise ValueError("samples must hold finite numbers only")


def doubled_midranks(groups: Sequence[Sequence[float]]) -> list[list[int]]:
    """Each value's rank in the pooled sample, ties sharing their mean rank, times two (so
    every rank is an integer and sums can index a table)."""
    pooled = sorted(
        (value, g, i) for g, group in enumerate(groups) for i, value in enumerate(group)
    )
    ranks = [[0] * len(group) for group in groups]
    start = 0
    while start < len(pooled):
        end = start
        while end + 1 < len(pooled) and pooled[end + 1][0] == pooled[start][0]:
            end += 1
        doubled = start + end + 2  # (start + 1 + end + 1) / 2 * 2
        for k in range(start, end + 1):
            _, g, i = pooled[k]
            ranks[g][i] = doubled
        start = end + 1
    return ranks


@dataclass(frozen=True)
class RankTest:
    """A rank test's outcome: p, and the smallest p these sample sizes and ties could ever
    give (when that is not below a level, no outcome of the data can reach it)."""

    p_value: float
    smallest_p: float
    method: str  # "exact", "permutation" or "normal"


# --------------------------------------------------------------------------
# Mann–Whitney U (two independent samples)

# Exact distribution up to this many pooled values (with ties: every distinct split of the
# pooled ranks counted; 0.4 s for 60 + 60 the first time, cached by sizes and ties); the
# normal approximation with the tie correction above, where the tests show it within 0.002
# of the exact p.
MANN_WHITNEY_EXACT_LIMIT = 120


@cache
def _rank_sum_counts(doubled_ranks: tuple[int, ...], n1: int) -> tuple[tuple[int, int], ...]:
    """(doubled rank sum, number of ways) over every choice of n1 of the pooled ranks.

    The generating polynomial of each count k is held in one big integer, one
    fixed-width digit per sum, so adding a rank is a shift and an add done in C:
    milliseconds where a table walked in Python takes seconds at 60 values."""
    width = math.comb(len(doubled_ranks), n1).bit_length() + 1  # no digit can overflow
    polynomials = [1] + [0] * n1  # polynomials[k]: choices of k ranks, by sum
    for seen, rank in enumerate(doubled_ranks, start=1):
        shift = width * rank
        for k in range(min(seen, n1), 0, -1):
            if polynomials[k - 1]:
                polynomials[k] += polynomials[k - 1] << shift
    packed, mask, counts, total = polynomials[n1], (1 << width) - 1, [], 0
    while packed:
        digit = packed & mask
        if digit:
            counts.append((total, digit))
        packed >>= width
        total += 1
    return tuple(counts)


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z, through erfc: keeps its relative precision far in
    the lower tail, where 1 + erf(x) (NormalDist.cdf) has already rounded to 0."""
    return 0.5 * math.erfc(-x / math.sqrt(2))


def smallest_one_sided_p(n1: int, n2: int) -> float:
    """The smallest one-sided p any two samples of these sizes can give, whatever their
    values: one arrangement of all C(n1 + n2, n1) in the exact range (ties only raise it),
    the normal approximation's most extreme U without ties above it. Known before the values
    are compared, so a family can be chosen with it (Tarone) without looking at outcomes."""
    if n1 < 1 or n2 < 1:
        raise ValueError("every sample needs at least one value")
    if n1 + n2 <= MANN_WHITNEY_EXACT_LIMIT:
        return 1 / math.comb(n1 + n2, n1)
    mean = n1 * n2 / 2
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return normal_cdf(-(mean - 0.5) / sd)


def mann_whitney(
    first: Sequence[float], second: Sequence[float], alternative: str = "two-sided"
) -> RankTest:
    """Mann–Whitney U test of `first` against `second`.

    `alternative` as in SciPy: "greater" asks whether `first` tends to be larger,
    "less" smaller, "two-sided" either (twice the smaller tail, capped at 1).
    Exact (the permutation distribution of the rank sum, ties included) up to
    MANN_WHITNEY_EXACT_LIMIT pooled values; above, the normal approximation with
    the tie correction and a continuity correction.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    check_samples([first, second])
    n1, n2 = len(first), len(second)
    ranks = doubled_midranks([first, second])
    observed = sum(ranks[0])
    pooled = tuple(sorted(ranks[0] + ranks[1]))
    if n1 + n2 <= MANN_WHITNEY_EXACT_LIMIT:
        counts = _rank_sum_counts(pooled, n1)
        ways = sum(c for _, c in counts)
        below = sum(c for s, c in counts if s <= observed) / ways
        above = sum(c for s, c in counts if s >= observed) / ways
        lowest, highest = counts[0][1] / ways, counts[-1][1] / ways
        if alternative == "greater":
            return RankTest(above, highest, "exact")
        if alternative == "less":
            return RankTest(below, lowest, "exact")
        return RankTest(
            min(1.0, 2 * min(below, above)), min(1.0, 2 * min(lowest, highest)), "exact"
        )
    n = n1 + n2
    tie_term = 0
    index = 0
    while index < n:
        end = index
        while end + 1 < n and pooled[end + 1] == pooled[index]:
            end += 1
        ties = end - index + 1
        tie_term += ties**3 - ties
        index = end + 1
    u1 = observed / 2 - n1 * (n1 + 1) / 2
    mean = n1 * n2 / 2
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:  # every value equal: nothing can be told apart
        return RankTest(1.0, 1.0, "normal")
    sd = math.sqrt(variance)
    above = normal_cdf(-(u1 - mean - 0.5) / sd)  # P(U >= u1)
    below = normal_cdf((u1 - mean + 0.5) / sd)  # P(U <= u1)
    extreme = normal_cdf(-(mean - 0.5) / sd)  # the most extreme U, either end
    if alternative == "greater":
        return RankTest(min(1.0, above), extreme, "normal")
    if alternative == "less":
        return RankTest(min(1.0, below), extreme, "normal")
    return RankTest(min(1.0, 2 * min(below, above)), min(1.0, 2 * extreme), "normal")


# --------------------------------------------------------------------------
# Kruskal–Wallis (several groups)

# All distinct assignments of values to groups are enumerated up to this many; above, a
# seeded random sample of this many permutations (p never below 1 / (PERMUTATIONS + 1)).
KRUSKAL_EXACT_LIMIT = 20_000
PERMUTATIONS = 20_000


def _h_statistic(rank_sums: Sequence[float], sizes: Sequence[int], total: int) -> float:
    """H without the tie correction (the correction is one constant for every permutation
    of the same pooled values, so it changes no permutation p-value)."""
    return 12 / (total * (total + 1)) * sum(
        r * r / n for r, n in zip(rank_sums, sizes, strict=True)
    ) - 3 * (total + 1)


def _assignments(sizes: Sequence[int]) -> int:
    count = math.factorial(sum(sizes))
    for n in sizes:
        count //= math.factorial(n)
    return count


def _enumerate_rank_sums(ranks: Sequence[int], sizes: Sequence[int]) -> list[tuple[int, ...]]:
    """Every way to deal the pooled (doubled) ranks into groups of the given sizes, as each
    group's rank sum; identical ranks dealt alike count once per position, as permutations
    of the values do."""
    found: list[tuple[int, ...]] = []

    def deal(start_group: int, remaining: list[int], sums: tuple[int, ...]) -> None:
        if start_group == len(sizes) - 1:
            found.append((*sums, sum(remaining)))
            return
        size = sizes[start_group]
        for chosen in _combinations(len(remaining), size):
            taken = [remaining[i] for i in chosen]
            rest = [remaining[i] for i in range(len(remaining)) if i not in chosen]
            deal(start_group + 1, rest, (*sums, sum(taken)))

    deal(0, list(ranks), ())
    return found


def _combinations(n: int, k: int) -> list[set[int]]:
    import itertools

    return [set(c) for c in itertools.combinations(range(n), k)]


def kruskal_wallis(groups: Sequence[Sequence[float]], seed: int = 0) -> RankTest:
    """Kruskal–Wallis test: do these groups of repeats come from one distribution?

    Rank-based, so one slow outlier cannot fake a difference. The p-value is the
    permutation p of H: exact (every assignment of the values to the groups) up to
    KRUSKAL_EXACT_LIMIT assignments, else from PERMUTATIONS seeded random ones,
    counted as (hits + 1) / (PERMUTATIONS + 1) so it is never optimistic. The
    chi-squared approximation is not used: at 3 repeats per group it calls a
    difference twice as often as its level promises.
    """
    if len(groups) < 2:
        raise ValueError("need at least two groups")
    check_samples(groups)
    sizes = [len(g) for g in groups]
    total = sum(sizes)
    doubled = doubled_midranks(groups)
    observed = _h_statistic([sum(r) / 2 for r in doubled], sizes, total)
    pooled = [r for group in doubled for r in group]
    tolerance = 1e-9 * max(1.0, abs(observed))
    if _assignments(sizes) <= KRUSKAL_EXACT_LIMIT:
        statistics_all = [
            _h_statistic([s / 2 for s in sums], sizes, total)
            for sums in _enumerate_rank_sums(pooled, sizes)
        ]
        hits = sum(1 for h in statistics_all if h >= observed - tolerance)
        largest = max(statistics_all)
        at_largest = sum(1 for h in statistics_all if h >= largest - tolerance)
        count = len(statistics_all)
        return RankTest(hits / count, at_largest / count, "exact")
    rng = random.Random(seed)
    shuffled = list(pooled)
    hits = 0
    for _ in range(PERMUTATIONS):
        rng.shuffle(shuffled)
        sums, start = [], 0
        for n in sizes:
            sums.append(sum(shuffled[start : start + n]) / 2)
            start += n
        if _h_statistic(sums, sizes, total) >= observed - tolerance:
            hits += 1
    return RankTest((hits + 1) / (PERMUTATIONS + 1), 1 / (PERMUTATIONS + 1), "permutation")


# --------------------------------------------------------------------------
# Many tests at once


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: reject where adjusted p < α and the chance of any
    false rejection among all the tests stays at most α, whatever their dependence."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
