"""Deciding whether one run's timing differs from another's, for a whole family of timings.

A verdict needs a test and a ratio to agree, after Holm's correction across every timing the
diff tests (so the chance of any false verdict in the whole diff stays at α), and the ratio
must be beyond the smallest ratio that matters and beyond what the machine's own changes of
speed could explain. Two rules, by what a timing's files hold:

- processes (`measure_processes`): the timing was measured in several fresh processes a side
  (experiments.core.replicas). Each process's median is one value; the moderated t test
  (Smyth 2004) of the log ratio of the two runs against the threshold, in a model that
  lets each run's own process sit a steady amount off its workers (`two_runs`): each
  timing's residual variance, from 4 or 5 processes a side, is shrunk toward what the
  other timings of the same diff show (`fit_prior`), by as much as their variances
  agree. Workers that ran an experiment in a moment of their own are already left out
  (report.diff.processes.slow_moments). Between processes a timing moves with everything
  one process cannot show (address layout, allocator, thread placement, the moment), so
  that movement is measured, not assumed; what it cannot contain is the machine running
  its whole second run at another level, which the reference workloads' level shift
  between the runs guards.
- repeats (`measure`): the values of one process a side. The Mann–Whitney U test on them,
  against the widest drift of the reference workloads over both runs: a machine that ran
  its reference 15 % slower late in a run than early could make any timing 15 % slower
  without anything else changing, and one process cannot tell which.

Standard library only (report/ runs without torch or SciPy)."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from experiments.contract.distributions import t_quantile
from experiments.contract.moderated import NO_PRIOR, Prior, fit_prior, moderated_t, two_runs
from experiments.contract.statistics import (
    RankTest,
    holm,
    mann_whitney,
    smallest_one_sided_p,
)

BOOTSTRAP_RESAMPLES = 2000

# The fewest processes-rule timings in a family whose variances are pooled into a prior:
# below it the moment estimate of the prior's degrees of freedom is too loose to lean on,
# and each timing is tested on its own variance (Student's pooled t)
MIN_TIMINGS_FOR_PRIOR = 8

# The two rules a timing can be decided by (Comparison.rule)
REPEATS, PROCESSES = "repeats", "processes"

# Verdicts
SLOWER, FASTER, WITHIN_NOISE, WITHIN_DRIFT, CANNOT_TELL = (
    "slower",
    "faster",
    "within noise",
    "within drift",
    "cannot tell",
)


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
    """One timing of one run against the baseline."""

    ratio: float | None  # median(other) / median(baseline)
    interval: tuple[float, float] | None  # its 95 % bootstrap interval
    p_value: float | None  # Mann–Whitney, two-sided
    adjusted_p: float | None  # after Holm's correction over the family
    smallest_p: float | None  # the best p these sample sizes could give
    verdict: str
    reason: str | None = None  # why "cannot tell" / "within drift": an identifier
    threshold: float | None = None  # the ratio a verdict had to pass
    p_any: float | None = None  # the plain test of any difference, Holm-adjusted
    samples: tuple[tuple[float, ...], tuple[float, ...]] | None = field(
        default=None, repr=False, compare=False
    )
    # "repeats": the values of one process a side, the rank test on them; "processes": the
    # medians of several processes a side (their logarithms in `groups`), the moderated t
    rule: str = REPEATS
    groups: tuple[tuple[float, ...], tuple[float, ...]] | None = field(
        default=None, repr=False, compare=False
    )


def measure(
    baseline: Sequence[float], other: Sequence[float], *, with_interval: bool = True
) -> Comparison:
    """The ratio (and its interval) for one timing; the tests and the verdict wait for the
    family and its thresholds (`decide`). (The bootstrap interval is for the reader;
    simulations that only count verdicts skip it.)"""
    for values in (baseline, other):
        if not values:
            return Comparison(None, None, None, None, None, CANNOT_TELL, "no_values")
        if not all(math.isfinite(v) for v in values):
            return Comparison(None, None, None, None, None, CANNOT_TELL, "not_finite")
    base_median, other_median = statistics.median(baseline), statistics.median(other)
    if base_median <= 0 or other_median <= 0:
        return Comparison(None, None, None, None, None, CANNOT_TELL, "zero_median")
    ratio = other_median / base_median
    if len(baseline) < 2 or len(other) < 2:
        return Comparison(ratio, None, None, None, None, CANNOT_TELL, "few_values")
    return Comparison(
        ratio,
        ratio_interval(baseline, other) if with_interval else None,
        None,
        None,
        None,
        CANNOT_TELL,
        None,
        samples=(tuple(baseline), tuple(other)),
    )


def measure_processes(
    baseline: Sequence[Sequence[float]], other: Sequence[Sequence[float]]
) -> Comparison:
    """A timing measured in several processes a side: each process's median is one value,
    and the ratio is the ratio of their geometric means, with the t test's 95 % interval on
    its own variance; `decide` narrows the interval and decides once the family's prior is
    known."""
    logs = []
    for groups in (baseline, other):
        medians = [statistics.median(g) for g in groups if g]
        if any(not math.isfinite(m) for m in medians):
            return Comparison(None, None, None, None, None, CANNOT_TELL, "not_finite")
        if any(m <= 0 for m in medians):
            return Comparison(None, None, None, None, None, CANNOT_TELL, "zero_median")
        logs.append(tuple(math.log(m) for m in medians))
    first, second = logs
    if len(first) < 3 or len(second) < 3:
        return Comparison(None, None, None, None, None, CANNOT_TELL, "few_values", rule=PROCESSES)
    return Comparison(
        math.exp(two_runs(first, second).difference),
        processes_interval(first, second, NO_PRIOR),
        None,
        None,
        None,
        CANNOT_TELL,
        None,
        rule=PROCESSES,
        groups=(first, second),
    )


def processes_interval(
    first: Sequence[float], second: Sequence[float], prior: Prior
) -> tuple[float, float]:
    """95 % interval of the ratio, from the (moderated) t test of the run model."""
    contrast = two_runs(first, second)
    _test, se, df = moderated_t(contrast, prior)
    quantile = statistics.NormalDist().inv_cdf(0.975) if math.isinf(df) else t_quantile(0.975, df)
    return (
        math.exp(contrast.difference - quantile * se),
        math.exp(contrast.difference + quantile * se),
    )


def family_prior(measured: Sequence[Comparison]) -> Prior:
    """The prior of the processes-rule timings' variances in one family: each timing's
    residual variance in the run model (`two_runs`). Fewer than MIN_TIMINGS_FOR_PRIOR
    timings: none."""
    contrasts = [two_runs(*c.groups) for c in measured if c.groups is not None]
    if len(contrasts) < MIN_TIMINGS_FOR_PRIOR:
        return NO_PRIOR
    return fit_prior([c.variance for c in contrasts], [c.df for c in contrasts])


def beyond_processes(
    first: Sequence[float], second: Sequence[float], threshold: float, prior: Prior
) -> tuple[RankTest, str]:
    """As `beyond`, for log process medians: the moderated t test of the run model's log
    ratio against ±log(threshold) in the observed direction, its p doubled for choosing
    the direction."""
    shift = math.log(threshold)
    contrast = two_runs(first, second)
    if contrast.difference >= 0:
        direction = SLOWER
        test, _se, _df = moderated_t(contrast, prior, "greater", shift)
    else:
        direction = FASTER
        test, _se, _df = moderated_t(contrast, prior, "less", -shift)
    return RankTest(min(1.0, 2 * test.p_value), 0.0, test.method), direction


def beyond(
    baseline: Sequence[float], other: Sequence[float], threshold: float
) -> tuple[RankTest, str]:
    """Is `other` slower (or faster) than `baseline` by more than `threshold`×? The one-sided
    rank test of `other` against the baseline scaled by the threshold, in the direction of
    the observed ratio (returned with it: SLOWER or FASTER); its p is doubled, because the
    direction was chosen after looking. The smallest p it could give depends on the sample
    sizes only, not on the direction or the ties, so choosing the family with it
    (`tarone`) looks at no outcome."""
    if statistics.median(other) >= statistics.median(baseline):
        direction = SLOWER
        test = mann_whitney(other, [v * threshold for v in baseline], "greater")
    else:
        direction = FASTER
        test = mann_whitney(other, [v / threshold for v in baseline], "less")
    floor = min(1.0, 2 * smallest_one_sided_p(len(other), len(baseline)))
    return RankTest(min(1.0, 2 * test.p_value), floor, test.method), direction


def tarone(smallest: Sequence[float | None], alpha: float) -> list[int]:
    """The timings worth testing: Tarone's device. With k tests a Bonferroni-style level is
    α/k, and a test whose best possible p (fixed by its sample sizes alone, known before
    the values are compared) is not below it can never be rejected, yet it would make every
    other test's level stricter. So take the smallest k for which at most k tests can reach
    α/k; those are the family. The choice does not look at any outcome, so the family-wise
    error stays at most α."""
    candidates = [(i, p) for i, p in enumerate(smallest) if p is not None]
    for k in range(1, len(candidates) + 1):
        reachable = [i for i, p in candidates if p < alpha / k]
        if len(reachable) <= k:
            return reachable
    return [i for i, _ in candidates]


def decide(
    measured: Sequence[Comparison],
    *,
    alpha: float,
    min_ratio: float,
    drift: Sequence[float],
) -> list[Comparison]:
    """Verdicts for a family of timings, the chance of any false one at most `alpha`.

    Each timing's claim is "slower (or faster) by more than its threshold", the
    larger of the minimum ratio and what the machines' drift explains
    (`drift[i]`, 1.0: none): the rank test of the values against the baseline
    scaled by the threshold (`beyond`), or for a timing measured in several
    processes a side the moderated t test of their medians, with the prior that
    all such timings of the family give (`beyond_processes`, `family_prior`).
    Timings whose sample sizes could never
    give a p small enough are left out of the family first (`tarone`) and
    marked "cannot tell"; Holm's correction runs over the rest. The plain test of
    any difference, corrected the same way, only tells "within drift" or "below
    the minimum ratio" apart from "within noise".
    """
    if not (math.isfinite(alpha) and 0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not (math.isfinite(min_ratio) and min_ratio >= 1):
        raise ValueError(f"the minimum ratio must be at least 1, got {min_ratio}")
    thresholds = [max(min_ratio, d) for d in drift]
    # a drift no float can scale by (a reference read as 1e200 s) decides nothing
    measured = [
        c if math.isfinite(t) else replace(c, samples=None, groups=None, reason="not_finite")
        for c, t in zip(measured, thresholds, strict=True)
    ]
    prior = family_prior(measured)
    measured = [
        replace(c, interval=processes_interval(*c.groups, prior)) if c.groups else c
        for c in measured
    ]
    claims: list[RankTest | None] = []
    directions: list[str | None] = []
    plain: list[RankTest | None] = []
    for comparison, threshold in zip(measured, thresholds, strict=True):
        if comparison.groups is not None:
            first, second = comparison.groups
            tested, direction = beyond_processes(first, second, threshold, prior)
            claims.append(tested)
            directions.append(direction)
            plain.append(moderated_t(two_runs(first, second), prior)[0])
            continue
        if comparison.samples is None:
            claims.append(None)
            directions.append(None)
            plain.append(None)
            continue
        baseline, other = comparison.samples
        tested, direction = beyond(baseline, other, threshold)
        claims.append(tested)
        directions.append(direction)
        plain.append(mann_whitney(baseline, other))
    testable = tarone([t.smallest_p if t else None for t in claims], alpha)
    adjusted = dict(zip(testable, holm([claims[i].p_value for i in testable]), strict=True))  # type: ignore[union-attr]
    adjusted_plain = dict(
        zip(testable, holm([plain[i].p_value for i in testable]), strict=True)  # type: ignore[union-attr]
    )
    decided = []
    for i, comparison in enumerate(measured):
        claim = claims[i]
        if claim is None or comparison.ratio is None:
            decided.append(comparison)
            continue
        if i not in adjusted:
            decided.append(
                replace(
                    comparison,
                    p_value=claim.p_value,
                    smallest_p=claim.smallest_p,
                    threshold=thresholds[i],
                    verdict=CANNOT_TELL,
                    reason="unreachable",
                )
            )
            continue
        verdict: str
        reason: str | None = None
        distance = max(comparison.ratio, 1 / comparison.ratio)
        if adjusted[i] < alpha and distance > thresholds[i]:
            # the test's direction, and a median ratio past the threshold too: a rank test
            # can reject with equal medians (one sample merely spread wider), which is no
            # slowdown a reader would recognise; requiring both only removes calls
            verdict = directions[i] or CANNOT_TELL
        elif adjusted_plain[i] < alpha:
            # a difference beyond chance, but not clearly beyond the threshold: say which
            # part of the threshold it did not clear
            drifted = drift[i] > min_ratio and distance >= min_ratio
            if distance > thresholds[i]:
                # its median is past the threshold, its values too spread to show it is:
                # "≈ drift" or "≈" would call a 20× gap the machine's own or noise
                verdict, reason = CANNOT_TELL, "spread"
            else:
                verdict = WITHIN_DRIFT if drifted else WITHIN_NOISE
                reason = "drift" if drifted else "below_min_ratio"
        else:
            verdict = WITHIN_NOISE
        decided.append(
            replace(
                comparison,
                p_value=claim.p_value,
                adjusted_p=adjusted[i],
                smallest_p=claim.smallest_p,
                p_any=adjusted_plain[i],
                verdict=verdict,
                reason=reason,
                threshold=thresholds[i],
            )
        )
    return decided


def compare(
    baseline: Sequence[float],
    other: Sequence[float],
    *,
    alpha: float = 0.01,
    min_ratio: float = 1.05,
    drift: float = 1.0,
) -> Comparison:
    """One timing alone (a family of one), for callers with a single metric."""
    return decide([measure(baseline, other)], alpha=alpha, min_ratio=min_ratio, drift=[drift])[0]
