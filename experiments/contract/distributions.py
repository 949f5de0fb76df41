"""Distributions computed, not tabulated, and the straight-line fit whose interval uses them.

Standard library only, like the rest of the contract. Student's t (for the
intervals of fitted costs and of means) comes from the regularised incomplete
beta function, so it holds at every degree of freedom, not only at a table's
rows; the tests check it against SciPy. (Kruskal–Wallis needs no chi-squared
tail: statistics.py computes its p-value exactly or by permutation.)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from functools import cache
from typing import Any

# --------------------------------------------------------------------------
# Distributions


def _continued_fraction_beta(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularised incomplete beta (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _continued_fraction_beta(a, b, x) / a
    return 1.0 - math.exp(log_front) * _continued_fraction_beta(b, a, 1.0 - x) / b


def t_survival(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_quantile(probability: float, df: float) -> float:
    """The t with P(T <= t) = probability, by bisection on the exact distribution (to 1e-12)."""
    if not 0.0 < probability < 1.0:
        raise ValueError("probability must be in (0, 1)")
    if df <= 0:
        raise ValueError("a t distribution needs positive degrees of freedom")
    if probability < 0.5:
        return -t_quantile(1.0 - probability, df)
    low, high = 0.0, 1.0
    while 1.0 - t_survival(high, df) < probability:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if 1.0 - t_survival(middle, df) < probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


def digamma(x: float) -> float:
    """ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence up to x ≥ 20, then the asymptotic series
    (error below 1e-13 there)."""
    if not x > 0:
        raise ValueError(f"digamma needs a positive argument, got {x}")
    shifted = 0.0
    while x < 20.0:
        shifted -= 1.0 / x
        x += 1.0
    inverse_square = 1.0 / (x * x)
    series = inverse_square * (
        1 / 12 - inverse_square * (1 / 120 - inverse_square * (1 / 252 - inverse_square / 240))
    )
    return shifted + math.log(x) - 0.5 / x - series


def trigamma(x: float) -> float:
    """ψ'(x), the variance of log of a χ²/2-shaped value, for x > 0; as `digamma`."""
    if not x > 0:
        raise ValueError(f"trigamma needs a positive argument, got {x}")
    shifted = 0.0
    while x < 20.0:
        shifted += 1.0 / (x * x)
        x += 1.0
    inverse = 1.0 / x
    inverse_square = inverse * inverse
    series = (
        inverse
        + inverse_square / 2
        + inverse
        * inverse_square
        * (1 / 6 - inverse_square * (1 / 30 - inverse_square * (1 / 42 - inverse_square / 30)))
    )
    return shifted + series


def inverse_trigamma(y: float) -> float:
    """The x > 0 with ψ'(x) = y (ψ' falls from ∞ to 0), by bisection on log x."""
    if not (y > 0 and math.isfinite(y)):
        raise ValueError(f"trigamma takes only finite positive values, not {y}")
    low, high = -40.0, 40.0  # log x: ψ'(e^-40) ≈ e^80, ψ'(e^40) ≈ e^-40
    for _ in range(200):
        middle = (low + high) / 2.0
        if trigamma(math.exp(middle)) > y:
            low = middle
        else:
            high = middle
        if high - low < 1e-13:
            break
    return math.exp((low + high) / 2.0)


def t95(df: int) -> float:
    """Two-sided 95 % critical value of Student's t with `df` degrees of freedom."""
    if df < 1:
        raise ValueError("a t interval needs at least one degree of freedom")
    return _t95_cached(df)


@cache
def _t95_cached(df: int) -> float:
    return t_quantile(0.975, df)


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
