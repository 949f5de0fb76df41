"""The statistics, each checked against SciPy (a test-only dependency) at the sizes the
experiments and the diff use: tiny samples, ties, large statistics, many metrics at once."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from scipy import stats

from experiments.contract.distributions import linear_fit, t95, t_quantile
from experiments.contract.statistics import KRUSKAL_EXACT_LIMIT, holm, kruskal_wallis, mann_whitney
from report.diff.stats import (
    CANNOT_TELL,
    FASTER,
    SLOWER,
    WITHIN_DRIFT,
    WITHIN_NOISE,
    compare,
    decide,
    measure,
    tarone,
)

# --------------------------------------------------------------------------
# Distributions


@pytest.mark.parametrize("df", [*range(1, 41), 60, 119, 120, 121, 150, 200, 500, 1000, 100_000])
def test_t_quantile_matches_scipy_at_every_size(df: int) -> None:
    assert t95(df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-9)
    assert t_quantile(0.9, df) == pytest.approx(stats.t.ppf(0.9, df), rel=1e-9)
    assert t_quantile(0.05, df) == pytest.approx(stats.t.ppf(0.05, df), rel=1e-9)


def test_linear_fit_interval_uses_the_exact_t() -> None:
    rng = random.Random(3)
    x = [float(i % 7) for i in range(150)]
    y = [2.0 + 0.5 * v + rng.gauss(0, 0.1) for v in x]
    fit = linear_fit(x, y)
    reference = stats.linregress(x, y)
    half = stats.t.ppf(0.975, 148) * reference.stderr
    assert fit["slope"] == pytest.approx(reference.slope, rel=1e-12)
    assert fit["slope_ci95"][0] == pytest.approx(reference.slope - half, rel=1e-9)
    assert fit["slope_ci95"][1] == pytest.approx(reference.slope + half, rel=1e-9)


# --------------------------------------------------------------------------
# Mann–Whitney U


def _u(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.asarray(stats.mannwhitneyu(x, y, axis=axis).statistic)


def _permutation_p(first: list[float], second: list[float]) -> float:
    """SciPy's exact permutation p of the U statistic (every split of the pooled values)."""
    result = stats.permutation_test(
        (first, second),
        _u,
        permutation_type="independent",
        alternative="two-sided",
        n_resamples=np.inf,
        vectorized=True,
    )
    return float(result.pvalue)


@pytest.mark.parametrize(
    ("n1", "n2"), [(2, 2), (3, 3), (3, 5), (5, 5), (10, 10), (15, 30), (30, 30), (60, 60)]
)
def test_exact_p_without_ties_matches_scipy(n1: int, n2: int) -> None:
    rng = random.Random(n1 * 100 + n2)
    for shift in (0.0, 0.5, 1.5):
        first = [rng.random() for _ in range(n1)]
        second = [rng.random() + shift for _ in range(n2)]
        expected = stats.mannwhitneyu(first, second, method="exact").pvalue
        test = mann_whitney(first, second)
        assert test.method == "exact"
        assert test.p_value == pytest.approx(expected, rel=1e-9)
    assert test.smallest_p == pytest.approx(2 / math.comb(n1 + n2, n1), rel=1e-9)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ([1.0] * 5, [2.0] * 5),  # the normal approximation said p = 0.004, below what 5+5 can give
        ([1, 1, 2, 2, 3], [2, 3, 3, 4, 4]),
        ([1, 2, 2, 2], [2, 2, 3, 4, 5]),
        ([0.5, 0.5, 0.5], [0.5, 0.5, 0.7]),
        ([1, 2, 3, 3, 3, 4], [3, 3, 5, 6, 6, 7]),
    ],
)
def test_exact_p_with_ties_is_the_permutation_p(first: list[float], second: list[float]) -> None:
    test = mann_whitney(first, second)
    assert test.method == "exact"
    assert test.p_value == pytest.approx(_permutation_p(first, second), rel=1e-9)


def test_all_equal_samples_give_p_one() -> None:
    test = mann_whitney([3.0] * 4, [3.0] * 6)
    assert test.p_value == 1.0 and test.smallest_p == 1.0


@pytest.mark.parametrize(("n1", "n2"), [(60, 61), (80, 80), (100, 100)])
def test_normal_approximation_above_the_exact_limit_is_close_to_exact(n1: int, n2: int) -> None:
    rng = random.Random(n1 + n2)
    worst = 0.0
    for shift in (0.0, 0.1, 0.2, 0.3, 0.4):
        first = [rng.gauss(0, 1) for _ in range(n1)]
        second = [rng.gauss(shift, 1) for _ in range(n2)]
        test = mann_whitney(first, second)
        assert test.method == "normal"
        exact = stats.mannwhitneyu(first, second, method="exact").pvalue
        worst = max(worst, abs(test.p_value - exact))
        assert test.p_value == pytest.approx(
            stats.mannwhitneyu(first, second, method="asymptotic").pvalue, rel=1e-9
        )
    assert worst < 0.002


def test_non_finite_and_empty_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        mann_whitney([math.nan] * 5, [math.nan] * 5)
    with pytest.raises(ValueError, match="at least one value"):
        mann_whitney([], [1.0])


# --------------------------------------------------------------------------
# Kruskal–Wallis


def _exact_kruskal(groups: list[list[float]]) -> tuple[float, float]:
    """Brute force over every assignment of the values to groups of these sizes. An
    assignment's H depends only on its groups' rank sums (ranks and tie correction are the
    pool's), so each H is SciPy's ranking put through the textbook formula, after checking
    that formula gives stats.kruskal's own H for the observed groups: calling stats.kruskal
    34 650 times made one test take 15 s."""
    pooled = [v for g in groups for v in g]
    sizes = [len(g) for g in groups]
    n = len(pooled)
    ranks = stats.rankdata(pooled)
    _, tied = np.unique(pooled, return_counts=True)
    correction = 1 - float((tied**3 - tied).sum()) / (n**3 - n)

    def h(assignment: list[list[int]]) -> float:
        spread = sum(float(ranks[g].sum()) ** 2 / len(g) for g in assignment)
        return (12 / (n * (n + 1)) * spread - 3 * (n + 1)) / correction

    bounds = list(itertools.accumulate(sizes, initial=0))
    observed = h([list(range(bounds[i], bounds[i + 1])) for i in range(len(sizes))])
    assert observed == pytest.approx(stats.kruskal(*groups).statistic, rel=1e-12)
    everything: list[list[list[int]]] = []

    def deal(remaining: list[int], sizes_left: list[int], chosen: list[list[int]]) -> None:
        if len(sizes_left) == 1:
            everything.append([*chosen, remaining])
            return
        for combo in itertools.combinations(remaining, sizes_left[0]):
            rest = [i for i in remaining if i not in combo]
            deal(rest, sizes_left[1:], [*chosen, list(combo)])

    deal(list(range(n)), sizes, [])
    values = [h(a) for a in everything]
    tolerance = 1e-9 * max(1.0, observed)
    p = sum(v >= observed - tolerance for v in values) / len(values)
    top = max(values)
    smallest = sum(v >= top - tolerance for v in values) / len(values)
    return p, smallest


@pytest.mark.slow
@pytest.mark.parametrize(
    "groups",
    [
        [[1, 2, 3], [4, 5, 6]],
        [[1, 2], [3, 4], [5, 6]],
        [[1, 5, 9], [2, 6, 10], [3, 7, 11]],
        [[1.0, 1.0, 2.0], [2.0, 3.0, 3.0], [3.0, 4.0, 4.0]],  # ties
        [[1, 2], [3, 4], [5, 6], [7, 8]],  # 4 × 2: the chi-squared p could never reach 0.05
        [[0.31, 0.35, 0.30], [0.29, 0.36, 0.33]],
    ],
)
def test_kruskal_wallis_exact_p_is_the_permutation_p(groups: list[list[float]]) -> None:
    test = kruskal_wallis(groups)
    assert test.method == "exact"
    p, smallest = _exact_kruskal(groups)
    assert test.p_value == pytest.approx(p, rel=1e-12)
    assert test.smallest_p == pytest.approx(smallest, rel=1e-12)


def test_four_groups_of_two_can_reach_five_percent_exactly() -> None:
    assert kruskal_wallis([[1, 2], [3, 4], [5, 6], [7, 8]]).smallest_p == pytest.approx(24 / 2520)


def test_the_exact_test_keeps_its_level_where_chi_squared_did_not() -> None:
    # 2 groups × 3: every assignment is equally likely under "no difference"; the share with
    # p at or below 5 % must not exceed 5 % (the chi-squared approximation gave 10 %)
    values = [0.11, 0.52, 0.23, 0.94, 0.35, 0.76]
    false = 0
    total = 0
    for first in itertools.combinations(range(6), 3):
        a = [values[i] for i in first]
        b = [values[i] for i in range(6) if i not in first]
        total += 1
        false += kruskal_wallis([a, b]).p_value <= 0.05
        chi2_p = stats.kruskal(a, b).pvalue
        assert chi2_p <= kruskal_wallis([a, b]).p_value + 1e-12 or chi2_p > 0.05
    assert false / total <= 0.05


@pytest.mark.slow
def test_kruskal_wallis_permutation_p_above_the_exact_limit() -> None:
    groups = [[0.10, 0.12, 0.11, 0.13], [0.14, 0.12, 0.15, 0.16], [0.17, 0.19, 0.18, 0.15]]
    assert math.factorial(12) // (math.factorial(4) ** 3) > KRUSKAL_EXACT_LIMIT
    test = kruskal_wallis(groups)
    assert test.method == "permutation"
    exact, _ = _exact_kruskal(groups)
    standard_error = math.sqrt(exact * (1 - exact) / 20_000)
    assert abs(test.p_value - exact) < 4 * standard_error + 1 / 20_001
    assert test.p_value == kruskal_wallis(groups).p_value  # seeded: the same every time


# --------------------------------------------------------------------------
# Many timings at once


def test_holm_adjusted_p_values() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_holm_rejects_what_the_step_down_definition_rejects() -> None:
    rng = random.Random(5)
    for _ in range(200):
        p = [rng.random() ** 3 for _ in range(rng.randint(1, 12))]
        adjusted = holm(p)
        ordered = sorted(p)
        m = len(p)
        rejected_by_definition = 0
        for k, value in enumerate(ordered):
            if value <= 0.05 / (m - k):
                rejected_by_definition += 1
            else:
                break
        assert sum(a <= 0.05 for a in adjusted) == rejected_by_definition


def test_tarone_leaves_out_what_could_never_be_significant() -> None:
    # 5 timings could reach α/1 = 0.01, only 2 can reach α/2 = 0.005: test those 2
    smallest = [1e-6, 1e-4, 0.008, 0.008, 0.008, None]
    assert tarone(smallest, 0.01) == [0, 1]
    assert tarone([0.1, 0.2], 0.01) == []


def _family(rng: random.Random, shift: float, drift: float = 1.0) -> list[str]:
    cvs = [0.03 + 0.27 * i / 39 for i in range(40)]
    measured = [
        measure(
            [rng.lognormvariate(0, cv) for _ in range(30)],
            [shift * rng.lognormvariate(0, cv) for _ in range(30)],
            with_interval=False,
        )
        for cv in cvs
    ]
    return [c.verdict for c in decide(measured, alpha=0.01, min_ratio=1.05, drift=[drift] * 40)]


@pytest.mark.slow
def test_a_family_of_40_equal_timings_rarely_gives_any_false_verdict() -> None:
    rng = random.Random(11)
    diffs = [_family(rng, 1.0) for _ in range(150)]
    with_alarm = sum(any(v in (SLOWER, FASTER) for v in verdicts) for verdicts in diffs)
    assert with_alarm / len(diffs) <= 0.02  # α = 0.01 for the whole family


def test_a_planted_slowdown_is_found_on_the_quiet_timings() -> None:
    rng = random.Random(12)
    verdicts = _family(rng, 1.25)
    assert verdicts[:15] == [SLOWER] * 15  # CV 3 to 13 %: all found
    assert FASTER not in verdicts


def test_drift_turns_a_shift_it_explains_into_within_drift() -> None:
    rng = random.Random(13)
    verdicts = _family(rng, 1.10, drift=1.15)
    assert SLOWER not in verdicts and WITHIN_DRIFT in verdicts


def test_edge_cases_are_answered_with_a_reason() -> None:
    assert compare([], [1.0]).reason == "no_values"
    assert compare([math.nan] * 5, [math.nan] * 5).reason == "not_finite"
    assert compare([0.0] * 5, [1.0] * 5).reason == "zero_median"
    assert compare([1.0], [1.0, 2.0]).reason == "few_values"
    unreachable = compare([1.0, 1.1, 0.9], [2.0, 2.1, 1.9])  # best p of 3 vs 3: 0.1
    assert unreachable.verdict == CANNOT_TELL and unreachable.reason == "unreachable"
    assert unreachable.ratio == pytest.approx(2.0)
    same = [1.0, 1.01, 0.99, 1.0, 1.02]
    assert compare(same, same).verdict == WITHIN_NOISE


@pytest.mark.parametrize(
    ("alpha", "min_ratio"),
    [(2.0, 1.05), (0.0, 1.05), (math.nan, 1.05), (0.01, 0.5), (0.01, math.inf)],
)
def test_levels_that_make_no_sense_are_refused(alpha: float, min_ratio: float) -> None:
    with pytest.raises(ValueError):
        decide([], alpha=alpha, min_ratio=min_ratio, drift=[])


def test_a_median_past_the_drift_with_values_too_spread_is_cannot_tell() -> None:
    """Every value of the other run slower than every baseline value, 9 of 15 by 20×, 6 by
    1.3×: beyond chance (complete separation), the median (about 19×) past a 1.5× drift,
    but 6 values within it keep the shifted test from showing it: "?", not "≈ drift"."""
    baseline = [1.0 + 0.01 * i for i in range(15)]
    other = [1.3 + 0.01 * i for i in range(6)] + [20.0 + 0.1 * i for i in range(9)]
    (verdict,) = decide([compare(baseline, other)], alpha=0.01, min_ratio=1.05, drift=[1.5])
    assert verdict.verdict == CANNOT_TELL and verdict.reason == "spread"
    assert verdict.ratio is not None and verdict.ratio > 1.5
    assert verdict.p_any is not None and verdict.p_any < 0.01
    # the same values against a drift larger than their median ratio: within the drift
    (within,) = decide([compare(baseline, other)], alpha=0.01, min_ratio=1.05, drift=[30.0])
    assert within.verdict == WITHIN_DRIFT and within.reason == "drift"


def test_equal_medians_are_never_slower_or_faster() -> None:
    """A rank test rejects when one sample is merely spread wider; with both medians 1.0
    there is no slowdown to report, in either direction (a reviewer's case)."""
    baseline = [0.01] * 10 + [1.0] * 11
    other = [1.0] * 11 + [100.0] * 10
    verdict = compare(baseline, other, alpha=0.05)
    assert verdict.ratio == 1.0
    assert verdict.verdict not in (SLOWER, FASTER)


def test_a_spread_median_past_the_minimum_ratio_is_cannot_tell_without_drift() -> None:
    baseline = [1.0, 1.01, 1.02, 1.03, 1.04, 1.05]
    other = [1.06, 1.07, 3.0, 3.1, 3.2, 3.3]
    verdict = compare(baseline, other, alpha=0.05)
    assert verdict.ratio is not None and verdict.ratio > 2.9
    assert verdict.verdict == CANNOT_TELL and verdict.reason == "spread"


def test_the_smallest_possible_p_depends_on_the_sizes_only() -> None:
    """Tarone's choice of the family must not look at outcomes: the bound is the same
    whichever way the values went and however they tie."""
    from experiments.contract.statistics import smallest_one_sided_p

    assert smallest_one_sided_p(3, 3) == pytest.approx(1 / 20)
    assert smallest_one_sided_p(5, 5) == pytest.approx(1 / 252)
    tied = [1.0, 1.0, 1.0, 2.0, 3.0, 4.0]
    up = compare(tied, [5.0, 6.0], alpha=0.05)
    down = compare(tied, [1.0, 1.4], alpha=0.05)
    assert up.smallest_p == down.smallest_p == pytest.approx(2 / 28)
    # no pair of samples gives a smaller p than the bound (all 2-of-8 arrangements, no ties)
    values = list(range(8))
    best = min(
        stats.mannwhitneyu(
            [values[i], values[j]],
            [v for v in values if v not in (i, j)],
            alternative="greater",
            method="exact",
        ).pvalue
        for i in range(8)
        for j in range(i + 1, 8)
    )
    assert best == pytest.approx(smallest_one_sided_p(2, 6))


def test_the_normal_tail_is_not_rounded_to_zero() -> None:
    first = [float(v) for v in range(200, 300)]
    second = [float(v) for v in range(100)]
    test = mann_whitney(first, second, "greater")
    assert test.method == "normal" and 0 < test.p_value < 1e-20
    reference = stats.mannwhitneyu(first, second, alternative="greater", method="asymptotic")
    assert test.p_value == pytest.approx(reference.pvalue, rel=1e-6)
