"""Statistics both sides use: intervals for fitted costs, a rank test between groups.

Standard library only, like the rest of the contract.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

# Two-sided 95 % Student t critical values by degrees of freedom (df > 30: the
# next smaller tabulated df, which errs towards a wider interval).
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    21: 2.080,
    22: 2.074,
    23: 2.069,
    24: 2.064,
    25: 2.060,
    26: 2.056,
    27: 2.052,
    28: 2.048,
    29: 2.045,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
}


def t95(df: int) -> float:
    """Two-sided 95 % critical value of Student's t with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("a t interval needs at least one degree of freedom")
    if df in _T95:
        return _T95[df]
    if df > 120:
        return 1.960
    return _T95[max(k for k in _T95 if k < df)]


def linear_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """Least squares y = intercept + slope·x, with a 95 % confidence interval for the slope.

    Used to turn timings at several record counts into a cost per record: the
    slope is the cost, its interval says whether the data can tell it from zero.
    """
    n = len(x)
    if n != len(y) or n < 3:
        raise ValueError("a fit with an interval needs at least 3 (x, y) pairs")
    mean_x, mean_y = statistics.fmean(x), statistics.fmean(y)
    sxx = sum((v - mean_x) ** 2 for v in x)
    if sxx == 0:
        raise ValueError("x must take at least two different values")
    sxy = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((b - intercept - slope * a) ** 2 for a, b in zip(x, y, strict=True))
    stderr = math.sqrt(residual / (n - 2) / sxx)
    half = t95(n - 2) * stderr
    return {
        "slope": slope,
        "intercept": intercept,
        "slope_stderr": stderr,
        "slope_ci95": [slope - half, slope + half],
        "n": n,
    }


def _chi2_survival(statistic: float, df: int) -> float:
    """P(X >= statistic) for a chi-squared variable: 1 - regularized lower gamma, by series."""
    if statistic <= 0:
        return 1.0
    s, x = df / 2, statistic / 2
    term = total = 1.0 / s
    n = 1
    while term > total * 1e-15 and n < 10_000:
        term *= x / (s + n)
        total += term
        n += 1
    lower = math.exp(s * math.log(x) - x - math.lgamma(s)) * total
    return max(0.0, min(1.0, 1.0 - lower))


def kruskal_wallis_p(groups: Sequence[Sequence[float]]) -> float:
    """p-value of the Kruskal–Wallis test: do these groups of repeats come from one
    distribution? Rank-based, so one slow outlier cannot fake a difference (chi-squared
    approximation, with the correction for ties)."""
    if len(groups) < 2 or any(len(g) == 0 for g in groups):
        raise ValueError("need at least two non-empty groups")
    pooled = sorted((value, index) for index, group in enumerate(groups) for value in group)
    total = len(pooled)
    rank_sums = [0.0] * len(groups)
    tie_term = 0.0
    start = 0
    while start < total:
        end = start
        while end + 1 < total and pooled[end + 1][0] == pooled[start][0]:
            end += 1
        rank = (start + end) / 2 + 1
        tie_term += (end - start + 1) ** 3 - (end - start + 1)
        for k in range(start, end + 1):
            rank_sums[pooled[k][1]] += rank
        start = end + 1
    h = 12 / (total * (total + 1)) * sum(
        r * r / len(g) for r, g in zip(rank_sums, groups, strict=True)
    ) - 3 * (total + 1)
    correction = 1 - tie_term / (total**3 - total) if total > 1 else 1.0
    if correction <= 0:
        return 1.0
    return _chi2_survival(h / correction, len(groups) - 1)
