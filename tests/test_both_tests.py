"""A timing measured in several processes a side gets two tests in one Holm family: its
processes' medians (the processes rule) and the run's own values against the whole drift
(the repeats rule); `stats.either` reads one verdict from them."""

from __future__ import annotations

import math
import random

import pytest

from report.diff.stats import (
    CANNOT_TELL,
    FASTER,
    PROCESSES,
    REPEATS,
    SLOWER,
    WITHIN_NOISE,
    Comparison,
    decide,
    either,
    measure,
    measure_processes,
)


def _comparison(verdict: str, rule: str, ratio: float) -> Comparison:
    return Comparison(ratio, None, 0.5, 0.5, 0.01, verdict, None, rule=rule)


def test_the_first_test_that_calls_it_decides_else_the_main_one() -> None:
    main = _comparison(WITHIN_NOISE, PROCESSES, 1.02)
    own = _comparison(SLOWER, REPEATS, 1.31)
    assert either([main, own]) is own
    assert either([main, _comparison(WITHIN_NOISE, REPEATS, 1.01)]) is main
    called = _comparison(SLOWER, PROCESSES, 1.28)
    assert either([called, own]) is called  # the main test first where both call it
    assert either([main]) is main


def test_opposite_verdicts_cannot_tell() -> None:
    main = _comparison(SLOWER, PROCESSES, 1.3)
    found = either([main, _comparison(FASTER, REPEATS, 0.7)])
    assert (found.verdict, found.reason, found.rule, found.ratio) == (
        CANNOT_TELL,
        "tests_disagree",
        PROCESSES,
        1.3,
    )
    with pytest.raises(ValueError):
        either([])


def _processes(level: float, spread: float, rng: random.Random, noise: float) -> list[list[float]]:
    """Five processes: the run's own with 20 values, four workers with 5, each process at
    its own level (log-normal, `spread`)."""
    levels = [level * math.exp(rng.gauss(0, spread)) for _ in range(5)]
    return [
        [own * rng.lognormvariate(0, noise) for _ in range(20 if i == 0 else 5)]
        for i, own in enumerate(levels)
    ]


def test_a_timing_steady_in_its_own_process_is_called_by_its_own_values() -> None:
    """Processes 15 % apart hide a 1.3× change from the processes rule; the run's own 20
    values, 1 % apart, show it past a drift of 1.1×."""
    rng = random.Random(5)
    base = _processes(1e-3, 0.15, rng, 0.01)
    other = _processes(1.3e-3, 0.15, rng, 0.01)
    other[0] = [v * 1.3 for v in base[0]]  # the run's own process: exactly 1.3×
    tests = decide(
        [measure_processes(base, other), measure(base[0], other[0])],
        alpha=0.01,
        min_ratio=1.05,
        drift=[1.0, 1.1],
    )
    assert tests[0].verdict != SLOWER and tests[1].verdict == SLOWER
    found = either(tests)
    assert (found.rule, found.verdict, found.threshold) == (REPEATS, SLOWER, 1.1)
    assert found.ratio == pytest.approx(1.3)


@pytest.mark.slow
def test_both_tests_together_cry_wolf_at_most_alpha() -> None:
    """Simulated A/A diffs of 20 timings, each with both tests, where each rule's assumption
    holds (the whole drift, 1.25×, covers a process's offset of 3–8 %): the share of diffs
    with any SLOWER/faster stays at or below α (0.05 here, to count some)."""
    rng = random.Random(23)
    trials, alarms = 300, 0
    for _ in range(trials):
        measured, guards = [], []
        for number in range(20):
            spread = 0.03 + 0.05 * number / 19
            base = _processes(1e-3, spread, rng, 0.03)
            other = _processes(1e-3, spread, rng, 0.03)
            own = measure(base[0], other[0], with_interval=False)
            measured += [measure_processes(base, other), own]
            guards += [1.0, 1.25]
        decided = decide(measured, alpha=0.05, min_ratio=1.05, drift=guards)
        verdicts = [either([decided[2 * n], decided[2 * n + 1]]).verdict for n in range(20)]
        alarms += any(v in (SLOWER, FASTER) for v in verdicts)
    assert alarms / trials <= 0.05
