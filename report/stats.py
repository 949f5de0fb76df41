"""Statistics for comparing runs: a rank test on the raw repeats and an interval for a ratio.

Standard library only (report/ runs without torch or SciPy). A difference
between two machines counts only when both agree: the Mann–Whitney U test
says the repeats differ beyond chance, and the ratio of medians is large
enough to matter.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

# Below this many repeats on either side no verdict is given.
MIN_REPEATS = 3
# Exact U distribution up to this many values per side; normal approximation above.
EXACT_LIMIT = 20
BOOTSTRAP_RESAMPLES = 2000


@cache
def _u_counts(n1: int, n2: int) -> tuple[int, ...]:
    """Number of orderings giving each U statistic, for samples of n1 and n2 without ties."""
    # f(i, j)[u]: arrangements of i and j values with statistic u; built up from both ends.
    table: dict[tuple[int, int], list[int]] = {}
    for i in range(n1 + 1):
        for j in range(n2 + 1):
            if i == 0 or j == 0:
                table[i, j] = [1]
                continue
            take_first = table[i - 1, j]  # largest value is from sample 1: adds j to U
            take_second = table[i, j - 1]
            size = i * j + 1
            counts = [0] * size
            for u, c in enumerate(take_first):
                counts[u + j] += c
            for u, c in enumerate(take_second):
                counts[u] += c
            table[i, j] = counts
    return tuple(table[n1, n2])


def mann_whitney_p(first: Sequence[float], second: Sequence[float]) -> float:
    """Two-sided p-value of the Mann–Whitney U test (exact without ties, else normal)."""
    n1, n2 = len(first), len(second)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need values")
    pooled = sorted([(v, 0) for v in first] + [(v, 1) for v in second])
    ranks: dict[int, float] = {}
    values = [v for v, _ in pooled]
    index = 0
    rank_sum = 0.0
    tie_term = 0.0
    while index < len(pooled):
        end = index
        while end + 1 < len(pooled) and values[end + 1] == values[index]:
            end += 1
        average = (index + end) / 2 + 1
        ties = end - index + 1
        tie_term += ties**3 - ties
        for k in range(index, end + 1):
            ranks[k] = average
            if pooled[k][1] == 0:
                rank_sum += average
        index = end + 1
    u1 = rank_sum - n1 * (n1 + 1) / 2
    if tie_term == 0 and n1 <= EXACT_LIMIT and n2 <= EXACT_LIMIT:
        counts = _u_counts(n1, n2)
        total = sum(counts)
        low = min(u1, n1 * n2 - u1)
        tail = sum(counts[: int(low) + 1]) / total
        return min(1.0, 2 * tail)
    mean = n1 * n2 / 2
    n = n1 + n2
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = (abs(u1 - mean) - 0.5) / math.sqrt(variance)
    return min(1.0, 2 * (1 - statistics.NormalDist().cdf(max(z, 0.0))))


def ratio_interval(
    baseline: Sequence[float], other: Sequence[float], seed: int = 0
) -> tuple[float, float]:
    """95 % bootstrap interval of median(other) / median(baseline), reproducible by seed."""
    rng = random.Random(seed)
    ratios = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        a = statistics.median(rng.choices(baseline, k=len(baseline)))
        b = statistics.median(rng.choices(other, k=len(other)))
        ratios.append(b / a if a else math.inf)
    ratios.sort()
    return ratios[int(0.025 * len(ratios))], ratios[int(0.975 * len(ratios)) - 1]


@dataclass(frozen=True)
class Comparison:
    ratio: float  # median(other) / median(baseline)
    interval: tuple[float, float] | None
    p_value: float | None
    verdict: str  # "slower", "faster", "within noise", "insufficient data"


def compare(
    baseline: Sequence[float],
    other: Sequence[float],
    *,
    alpha: float = 0.01,
    min_ratio: float = 1.05,
    higher_is_better: bool = False,
) -> Comparison:
    """Verdict on `other` against `baseline` for a cost (time: lower is better) by default."""
    ratio = statistics.median(other) / statistics.median(baseline)
    if len(baseline) < MIN_REPEATS or len(other) < MIN_REPEATS:
        return Comparison(ratio, None, None, "insufficient data")
    if 2 / math.comb(len(baseline) + len(other), len(baseline)) >= alpha:
        # even a perfect separation could not reach alpha with so few repeats
        return Comparison(ratio, None, None, "insufficient data")
    p = mann_whitney_p(baseline, other)
    interval = ratio_interval(baseline, other)
    large = ratio >= min_ratio or ratio <= 1 / min_ratio
    if p < alpha and large:
        worse = ratio > 1 if not higher_is_better else ratio < 1
        return Comparison(ratio, interval, p, "slower" if worse else "faster")
    return Comparison(ratio, interval, p, "within noise")
