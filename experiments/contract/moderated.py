"""The moderated t test (Smyth 2004, limma's eBayes) that decides a timing measured in a
few processes a side: the run model it tests, the prior a family of such timings gives
each one's variance, and the test itself.

Standard library only, like the rest of the contract; the tests check it against NumPy's
least squares and SciPy.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from experiments.contract.distributions import digamma, inverse_trigamma, t_survival, trigamma
from experiments.contract.statistics import RankTest, check_samples, normal_cdf


@dataclass(frozen=True)
class Prior:
    """What a family of timings says about any one timing's variance: a scaled inverse χ²
    with `df` degrees of freedom (0: says nothing; inf: every timing has `variance`)
    around `variance`. `timings`: how many variances it was fitted from; `pooled_df`: their
    residual degrees of freedom together, more than which no test may claim (limma's cap)."""

    df: float
    variance: float
    timings: int
    pooled_df: float = math.inf


NO_PRIOR = Prior(0.0, 0.0, 0)


def fit_prior(variances: Sequence[float], dfs: Sequence[float]) -> Prior:
    """Smyth's method of moments on the log variances (limma's fitFDist without
    covariates): each s² is the prior's σ² times χ²_d/d times an F draw, so the mean of
    log s² − ψ(d/2) + log(d/2) estimates log s0² − ψ(d0/2) + log(d0/2), and its variance
    beyond the known ψ'(d/2) is ψ'(d0/2). No spread beyond that: d0 is infinite. Zero
    variances are raised to 1e-5 × the median first, as limma does, so that one timing
    without spread cannot pull the log mean to −∞."""
    if len(variances) != len(dfs):
        raise ValueError("one degree of freedom per variance")
    usable = [
        (v, d) for v, d in zip(variances, dfs, strict=True) if d > 0 and math.isfinite(v) and v >= 0
    ]
    if len(usable) < 2:
        return NO_PRIOR
    middle = statistics.median(v for v, _ in usable) or 1.0
    logs = [math.log(max(v, 1e-5 * middle)) - digamma(d / 2) + math.log(d / 2) for v, d in usable]
    mean = statistics.fmean(logs)
    excess = statistics.variance(logs) - statistics.fmean(trigamma(d / 2) for _, d in usable)
    pooled_df = sum(d for _, d in usable)
    if excess <= 0:
        # no spread beyond chance: the variances' plain mean (limma since 2017)
        return Prior(math.inf, statistics.fmean(v for v, _ in usable), len(usable), pooled_df)
    df = 2 * inverse_trigamma(excess)
    variance = math.exp(mean + digamma(df / 2) - math.log(df / 2))
    return Prior(df, variance, len(usable), pooled_df)


@dataclass(frozen=True)
class Contrast:
    """The difference between two runs' means as a linear model estimates it: `difference`,
    its standard error per unit of residual SD (`scale`), and the residual `variance` on
    `df` degrees of freedom."""

    difference: float
    scale: float
    variance: float
    df: int


def two_runs(first: Sequence[float], second: Sequence[float]) -> Contrast:
    """Two runs' log process medians, each run's own process first, then its workers': the
    least-squares fit of y = run mean + β·[the run's own process]. The run's own process
    measures the full configuration, its workers a shorter replica, and the two differ by a
    steady amount on some timings (the crossover's smallest sizes by about 20 %); that
    amount is the same in both runs, so β takes it out of the residual variance instead of
    counting it as spread between processes, at the cost of one degree of freedom. With
    equal sizes the difference is exactly the difference of the two runs' means."""
    check_samples([first, second])
    n1, n2 = len(first), len(second)
    if n1 < 3 or n2 < 3:
        raise ValueError("the run model needs the run's own process and two workers a side")
    workers1, workers2 = first[1:], second[1:]
    mean1, mean2 = statistics.fmean(workers1), statistics.fmean(workers2)
    # each run's own process against its workers' mean; β is their weighted mean
    off1, off2 = first[0] - mean1, second[0] - mean2
    weight1, weight2 = (n1 - 1) / n1, (n2 - 1) / n2
    beta = (weight1 * off1 + weight2 * off2) / (weight1 + weight2)
    level1 = mean1 + (off1 - beta) / n1
    level2 = mean2 + (off2 - beta) / n2
    squares = (
        sum((x - mean1) ** 2 for x in workers1)
        + sum((x - mean2) ** 2 for x in workers2)
        + weight1 * weight2 / (weight1 + weight2) * (off1 - off2) ** 2
    )
    df = n1 + n2 - 3
    # the contrast's variance factor, c'(X'X)⁻¹c for c = (−1, 1, 0) and the columns
    # [run 1, run 2, own process]: X'X = [[n1, 0, 1], [0, n2, 1], [1, 1, 2]]
    determinant = n1 * n2 * 2 - n1 - n2
    factor = (2 * n2 - 1 + 2 * n1 - 1 - 2) / determinant
    return Contrast(level2 - level1, math.sqrt(factor), squares / df, df)


def moderated_t(
    contrast: Contrast,
    prior: Prior,
    alternative: str = "two-sided",
    shift: float = 0.0,
) -> tuple[RankTest, float, float]:
    """The t test of the contrast's difference against `shift`, with its residual variance
    moderated by `prior`: (d0·s0² + d·s²) / (d0 + d) on d0 + d degrees of freedom (at most
    the family's pooled degrees of freedom), unless the timing's own variance is the larger:
    then its own, on its own degrees of freedom. With NO_PRIOR it is the ordinary t test of
    the linear model. A handful of processes a side
    estimates its own variance poorly, and the t quantile that a Holm-corrected level needs
    on 7 degrees of freedom is about twice the normal's; the other timings of the same
    diff lend their variances. Returns the test, the standard error of the difference and
    the degrees of freedom (for an interval)."""
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    own = contrast.variance
    if math.isinf(prior.df):
        variance, df = prior.variance, prior.pooled_df
    else:
        variance = (prior.df * prior.variance + contrast.df * own) / (prior.df + contrast.df)
        df = min(prior.df + contrast.df, prior.pooled_df)
    if own > variance:
        # a timing wider than its family borrows nothing: the prior assumes every timing's
        # variance comes from one scaled inverse χ², and timings of different kinds (a
        # microsecond call, a training step) form a mixture instead, whose wide members
        # it would shrink toward the narrow ones; tested on its own variance, it keeps
        # the plain t test's error rate
        variance, df = own, contrast.df
    se = math.sqrt(variance) * contrast.scale
    difference = contrast.difference - shift
    # no spread anywhere: the sign of the difference is all there is
    sign_only = math.copysign(math.inf, difference) if difference else 0.0
    t = difference / se if se else sign_only

    def upper(x: float) -> float:
        if math.isinf(x):
            return 0.0 if x > 0 else 1.0
        return normal_cdf(-x) if math.isinf(df) else t_survival(x, df)

    if alternative == "greater":
        p = upper(t)
    elif alternative == "less":
        p = upper(-t)
    else:
        p = min(1.0, 2 * upper(abs(t)))
    return RankTest(p, 0.0, "moderated t"), se, df
