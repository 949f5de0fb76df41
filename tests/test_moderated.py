"""The moderated t test that decides timings measured in several processes: its special
functions, its run model, its prior and its p-values checked against NumPy's least squares
and SciPy, and its family-wise error simulated where it is hardest to keep (every timing
exactly at its threshold)."""

from __future__ import annotations

import math
import random
import statistics

import numpy as np
import pytest
from scipy import optimize, special, stats

from experiments.contract.distributions import digamma, inverse_trigamma, trigamma
from experiments.contract.moderated import NO_PRIOR, Prior, fit_prior, moderated_t, two_runs
from report.diff import stats as diff_stats
from report.diff.stats import FASTER, SLOWER, Comparison, decide, measure_processes

POINTS = [1e-6, 0.003, 0.5, 1.0, 2.5, 4.0, 9.99, 19.5, 20.0, 37.0, 1e4, 1e9]


@pytest.mark.parametrize("x", POINTS)
def test_digamma_and_trigamma_match_scipy(x: float) -> None:
    assert digamma(x) == pytest.approx(special.digamma(x), rel=1e-12, abs=1e-12)
    assert trigamma(x) == pytest.approx(special.polygamma(1, x), rel=1e-12)
    assert inverse_trigamma(float(special.polygamma(1, x))) == pytest.approx(x, rel=1e-10)


def test_special_functions_refuse_what_they_cannot_take() -> None:
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError):
            digamma(bad)
        with pytest.raises(ValueError):
            trigamma(bad)
        with pytest.raises(ValueError):
            inverse_trigamma(bad)
    with pytest.raises(ValueError):
        inverse_trigamma(math.inf)


def _least_squares(first: list[float], second: list[float]) -> tuple[float, float, float, int]:
    """y = run mean + β·[the run's own process] by NumPy: the difference of the run means,
    its variance factor c'(X'X)⁻¹c, the residual variance, the residual degrees of freedom."""
    n1, n2 = len(first), len(second)
    design = np.zeros((n1 + n2, 3))
    design[:n1, 0] = design[n1:, 1] = 1
    design[0, 2] = design[n1, 2] = 1
    y = np.array(first + second)
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ coefficients
    contrast = np.array([-1.0, 1.0, 0.0])
    factor = contrast @ np.linalg.inv(design.T @ design) @ contrast
    df = n1 + n2 - 3
    return coefficients[1] - coefficients[0], factor, residuals @ residuals / df, df


SIZES = [(3, 3), (3, 5), (5, 5), (4, 9), (10, 3)]


@pytest.mark.parametrize(("n1", "n2"), SIZES)
def test_the_run_model_is_least_squares(n1: int, n2: int) -> None:
    rng = random.Random(n1 * 10 + n2)
    for _ in range(10):
        # the run's own process 20 % off its workers, as the crossover's smallest size is
        a = [rng.gauss(-0.2, 0.05)] + [rng.gauss(0, 0.05) for _ in range(n1 - 1)]
        b = [rng.gauss(0.0, 0.05)] + [rng.gauss(0.2, 0.05) for _ in range(n2 - 1)]
        difference, factor, variance, df = _least_squares(a, b)
        contrast = two_runs(a, b)
        assert contrast.difference == pytest.approx(difference, abs=1e-12)
        assert contrast.scale**2 == pytest.approx(factor, rel=1e-12)
        assert contrast.variance == pytest.approx(variance, rel=1e-10)
        assert contrast.df == df
    # equal sizes: the difference of the plain means, with the usual √(2/n)
    a, b = [0.1, 0.3, 0.2, 0.0], [0.5, 0.9, 0.4, 0.6]
    assert two_runs(a, b).difference == pytest.approx(statistics.fmean(b) - statistics.fmean(a))
    assert two_runs(a, b).scale == pytest.approx(math.sqrt(2 / 4))
    with pytest.raises(ValueError, match="two workers"):
        two_runs([0.1, 0.2], [0.1, 0.2, 0.3])


def _expected_test(
    a: list[float], b: list[float], prior: Prior, shift: float
) -> tuple[float, float, float]:
    """(t, df, variance) as the rule says, from NumPy's fit: the moderated variance on
    d0 + d degrees of freedom capped at the family's pooled ones, or the timing's own
    variance on its own if that is the larger."""
    difference, factor, own, own_df = _least_squares(a, b)
    if math.isinf(prior.df):
        variance, df = prior.variance, prior.pooled_df
    else:
        variance = (prior.df * prior.variance + own_df * own) / (prior.df + own_df)
        df = min(prior.df + own_df, prior.pooled_df)
    if own > variance:
        variance, df = own, own_df
    return (difference - shift) / math.sqrt(variance * factor), df, variance * factor


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@pytest.mark.parametrize(
    "prior",
    [NO_PRIOR, Prior(3.2, 0.04, 30, 210.0), Prior(41.0, 0.5, 30, 40.0), Prior(6.0, 0.001, 9)],
)
def test_the_t_test_pools_the_prior_with_the_residual_variance(
    prior: Prior, alternative: str
) -> None:
    rng = random.Random(int(prior.df))
    for n1, n2 in SIZES:
        a = [rng.gauss(0, 0.1) for _ in range(n1)]
        b = [rng.gauss(0.2, 0.3) for _ in range(n2)]
        t, df, se_squared = _expected_test(a, b, prior, 0.05)
        expected = {
            "greater": stats.t.sf(t, df),
            "less": stats.t.cdf(t, df),
            "two-sided": 2 * stats.t.sf(abs(t), df),
        }[alternative]
        test, se, got_df = moderated_t(two_runs(a, b), prior, alternative, 0.05)
        assert test.p_value == pytest.approx(expected, rel=1e-9)
        assert (test.smallest_p, test.method) == (0.0, "moderated t")
        assert se == pytest.approx(math.sqrt(se_squared))
        assert got_df == pytest.approx(df)


def test_a_timing_wider_than_its_family_borrows_nothing() -> None:
    """Shrinking a wide timing toward narrow ones would understate its spread (timings of
    different kinds are a mixture, not one inverse χ²): it keeps its own t test."""
    a, b = [0.0, 0.2, -0.2, 0.1], [0.5, 0.2, 0.8, 0.3]
    narrow = Prior(20.0, 0.0004, 30, 180.0)
    difference, factor, own, own_df = _least_squares(a, b)
    assert own > narrow.variance
    test, se, df = moderated_t(two_runs(a, b), narrow, "greater")
    assert test.p_value == pytest.approx(stats.t.sf(difference / math.sqrt(own * factor), own_df))
    assert se == pytest.approx(math.sqrt(own * factor))
    assert df == own_df


def test_an_infinite_prior_is_the_t_test_on_the_common_variance() -> None:
    """Every timing alike: the common variance, on the family's pooled degrees of freedom
    (limma's cap; without one it would be the normal test, as if the variance were known)."""
    a, b = [0.0, 0.1, 0.3], [0.5, 0.4, 0.9, 0.2]
    common = Prior(math.inf, 0.2, 30, 120.0)
    test, se, df = moderated_t(two_runs(a, b), common, "less")
    difference, factor, own, _df = _least_squares(a, b)
    assert own < common.variance
    assert test.p_value == pytest.approx(
        stats.t.cdf(difference / math.sqrt(0.2 * factor), 120), rel=1e-12
    )
    assert se == pytest.approx(math.sqrt(0.2 * factor))
    assert df == 120.0


def test_without_any_spread_the_sign_decides() -> None:
    same, apart = two_runs([1.0] * 3, [1.0] * 3), two_runs([2.0] * 3, [1.0] * 3)
    assert moderated_t(same, NO_PRIOR)[0].p_value == 1.0
    assert moderated_t(apart, NO_PRIOR, "less")[0].p_value == 0.0
    assert moderated_t(apart, NO_PRIOR, "greater")[0].p_value == 1.0
    with pytest.raises(ValueError, match="unknown alternative"):
        moderated_t(same, NO_PRIOR, "sideways")


def _reference_prior(variances: list[float], dfs: list[float]) -> tuple[float, float]:
    """Smyth (2004), section 6.2, written with SciPy's special functions and root finder."""
    s2, d = np.array(variances), np.array(dfs)
    e = np.log(s2) - special.digamma(d / 2) + np.log(d / 2)
    excess = e.var(ddof=1) - special.polygamma(1, d / 2).mean()
    if excess <= 0:
        return math.inf, float(s2.mean())  # limma's fitFDist since 2017
    half = optimize.brentq(lambda x: special.polygamma(1, x) - excess, 1e-10, 1e10, xtol=1e-14)
    d0 = 2 * half
    return d0, float(np.exp(e.mean() + special.digamma(half) - math.log(half)))


def test_the_prior_matches_a_scipy_reference() -> None:
    rng = random.Random(9)
    # spreads of log process medians like a diff's: 2–15 %, 5 processes a side (8 df), a few
    # timings with 4 on one side (7 df)
    variances = [rng.uniform(0.02, 0.15) ** 2 * rng.gammavariate(4, 1 / 4) for _ in range(31)]
    dfs = [8.0] * 28 + [7.0] * 3
    prior = fit_prior(variances, dfs)
    d0, s0 = _reference_prior(variances, dfs)
    assert prior.df == pytest.approx(d0, rel=1e-8)
    assert prior.variance == pytest.approx(s0, rel=1e-8)
    assert prior.timings == 31


def test_the_prior_recovers_the_model_it_assumes() -> None:
    """Variances drawn as s0² · (χ²_d/d) / (χ²_d0/d0): the fit finds d0 = 6, s0² = 0.0025."""
    gen = np.random.default_rng(4)
    d, d0, s0 = 8, 6.0, 0.0025
    variances = s0 * (gen.chisquare(d, 20_000) / d) / (gen.chisquare(d0, 20_000) / d0)
    prior = fit_prior(list(variances), [d] * 20_000)
    assert prior.df == pytest.approx(d0, rel=0.1)
    assert prior.variance == pytest.approx(s0, rel=0.05)


def test_variances_that_agree_give_an_infinite_prior_and_zeros_do_not_break_it() -> None:
    prior = fit_prior([0.01] * 10, [8] * 10)
    assert (prior.df, prior.pooled_df) == (math.inf, 80)
    assert prior.variance == pytest.approx(0.01)
    with_zero = fit_prior([0.0, 0.01, 0.02, 0.015], [8] * 4)
    assert math.isfinite(with_zero.variance) and with_zero.variance > 0
    assert fit_prior([0.01], [8]) == NO_PRIOR
    assert fit_prior([math.nan, math.inf, 0.01], [8, 8, 0]) == NO_PRIOR
    with pytest.raises(ValueError):
        fit_prior([0.01, 0.02], [8])


def _family(
    rng: random.Random, ratio: float, spreads: list[float], k: int = 5, outliers: float = 0.0
) -> list[Comparison]:
    """One measured processes-rule timing per spread: k processes a side, each process's
    values around its own level (the spread), the second side `ratio` times slower; with
    chance `outliers` a side has one process 30–100 % off (log scale), a slow moment."""

    def side(level: float, spread: float) -> list[list[float]]:
        levels = [level * math.exp(rng.gauss(0, spread)) for _ in range(k)]
        if rng.random() < outliers:
            levels[0] *= math.exp(rng.choice((1, -1)) * rng.uniform(0.3, 1.0))
        return [[own * rng.lognormvariate(0, 0.02) for _ in range(6)] for own in levels]

    return [measure_processes(side(1e-4, s), side(ratio * 1e-4, s)) for s in spreads]


def test_decide_tests_each_timing_with_the_familys_prior() -> None:
    rng = random.Random(21)
    measured = _family(rng, 1.25, [0.04 + 0.04 * i / 11 for i in range(12)])
    decided = decide(measured, alpha=0.01, min_ratio=1.05, drift=[1.0] * 12)
    groups = [(list(m.groups[0]), list(m.groups[1])) for m in measured]  # type: ignore[index]
    d0, s0 = _reference_prior([_least_squares(a, b)[2] for a, b in groups], [7.0] * 12)
    prior = Prior(d0, s0, 12, 84.0)
    for (a, b), comparison in zip(groups, decided, strict=True):
        t, df, _se = _expected_test(a, b, prior, math.log(1.05))
        assert comparison.p_value == pytest.approx(min(1.0, 2 * stats.t.sf(t, df)), rel=1e-8)
    assert sum(d.verdict == SLOWER for d in decided) >= 6


def test_a_small_family_is_tested_without_a_prior() -> None:
    rng = random.Random(5)
    measured = _family(rng, 1.3, [0.05] * (diff_stats.MIN_TIMINGS_FOR_PRIOR - 1))
    decided = decide(measured, alpha=0.01, min_ratio=1.05, drift=[1.0] * len(measured))
    for m, d in zip(measured, decided, strict=True):
        difference, factor, variance, df = _least_squares(list(m.groups[0]), list(m.groups[1]))  # type: ignore[index]
        t = (difference - math.log(1.05)) / math.sqrt(variance * factor)
        assert d.p_value == pytest.approx(min(1.0, 2 * stats.t.sf(t, df)), rel=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("timings", [diff_stats.MIN_TIMINGS_FOR_PRIOR, 31])
def test_at_the_threshold_the_family_errs_at_most_alpha(timings: int) -> None:
    """The hardest null: every timing exactly 1.05× slower (the minimum ratio), spreads from
    2 % to 15 %, and one process in ten off by 30–100 % (a slow moment). The share of
    families with any SLOWER/faster stays at most α (0.05 here, so that some are counted)."""
    rng = random.Random(timings)
    trials, alarms = 300, 0
    for _ in range(trials):
        spreads = [math.exp(rng.uniform(math.log(0.02), math.log(0.15))) for _ in range(timings)]
        measured = _family(rng, 1.05, spreads, outliers=0.1)
        decided = decide(measured, alpha=0.05, min_ratio=1.05, drift=[1.0] * timings)
        alarms += any(d.verdict in (SLOWER, FASTER) for d in decided)
    assert alarms / trials <= 0.05


@pytest.mark.slow
@pytest.mark.parametrize(("narrow", "wide"), [(7, 1), (14, 2)])
def test_a_mixture_of_spreads_at_the_exact_null_errs_at_most_alpha(narrow: int, wide: int) -> None:
    """No difference at all, no minimum ratio (so the doubled one-sided p gives no slack),
    4 processes a side, the run's own process 20 % off its workers, and two kinds of timing:
    most with 3 % spread, a few with 6 %. Shrinking the wide ones toward the narrow ones made
    this 0.10 at α = 0.05 (16 timings) before a timing wider than its family kept its own
    test."""
    rng = random.Random(narrow)
    trials, alarms = 600, 0
    for _ in range(trials):
        measured = []
        for spread in [0.03] * narrow + [0.06] * wide:
            sides = [
                [[math.exp((-0.2 if i == 0 else 0.0) + rng.gauss(0, spread))] for i in range(4)]
                for _side in range(2)
            ]
            measured.append(measure_processes(*sides))
        decided = decide(measured, alpha=0.05, min_ratio=1.0, drift=[1.0] * len(measured))
        alarms += any(d.verdict in (SLOWER, FASTER) for d in decided)
    assert alarms / trials <= 0.05
