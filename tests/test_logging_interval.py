"""Experiment 2: every interval trains the same network; the fit recovers a planted cost."""

from __future__ import annotations

import io
from typing import Any

import pytest
from scipy import stats

from experiments.contract.distributions import linear_fit, t95
from experiments.contract.shapes import check_shape
from experiments.core.devices import CpuDevice, SimulatedDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import logging_interval
from experiments.suite.logging_interval import measure

SMALL = logging_interval.Config(epochs=200, chunk_epochs=100, intervals=(1, 10, 100), repeats=2)


def _ctx() -> RunContext:
    return RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)


def test_fit_recovers_a_known_per_call_cost() -> None:
    records = [20_000, 2_000, 200, 100, 20, 10] * 3
    wobble = [0.004, -0.003, 0.001, -0.002, 0.003, -0.001, 0.0, 0.002, -0.004] * 2
    seconds = [6.0 + 2e-6 * n + w for n, w in zip(records, wobble, strict=True)]
    fit = linear_fit(records, seconds)
    assert fit["slope"] == pytest.approx(2e-6, rel=0.1)
    low, high = fit["slope_ci95"]
    assert low < 2e-6 < high and low > 0  # resolved: the interval excludes zero
    exact = linear_fit([0, 1, 2, 3], [1.0, 3.0, 5.0, 7.0])
    assert (exact["slope"], exact["intercept"], exact["slope_ci95"]) == (2.0, 1.0, [2.0, 2.0])


def test_t_critical_values() -> None:
    assert t95(1) == pytest.approx(12.706, abs=5e-4)  # the printed tables, rounded
    assert t95(10) == pytest.approx(2.228, abs=5e-4)
    assert t95(35) == pytest.approx(2.030, abs=5e-4)  # computed, not the next table row
    assert t95(1000) == pytest.approx(1.962, abs=5e-4)  # wider than 1.960, as it must be
    with pytest.raises(ValueError):
        linear_fit([1, 2], [1, 2])


@pytest.mark.slow
def test_every_interval_trains_the_same_network_and_counts_its_records() -> None:
    data = measure.run(SMALL, [CpuDevice()], _ctx())
    variants = data["per_device"][0]["variants"]
    assert [(v["every"], v["records"]) for v in variants] == [
        (1, 200),
        (10, 20),
        (100, 2),
        (None, 0),
    ]
    assert len({v["final_loss"] for v in variants}) == 1  # bitwise the same last loss
    assert all(len(v["times_s"]) == 2 and len(v["warmup_s"]) == 1 for v in variants)
    assert data["per_device"][0]["fit"]["n"] == 3 * 2
    check = check_shape(data, logging_interval.DATA_SPEC, "data")
    assert check is None


def test_noise_verdict_compares_the_notes_intervals_with_the_spread() -> None:
    def variant(every: int, times: list[float]) -> dict[str, Any]:
        median = sorted(times)[len(times) // 2]
        return {"every": every, "times_s": times, "summary": {"median": median}}

    quiet = [
        variant(100, [10.0, 10.1, 10.2, 10.3, 10.4]),
        variant(2000, [10.05, 10.15, 10.25, 10.35, 10.45]),
    ]
    verdict = measure._noise_verdict(quiet)
    assert verdict is not None and verdict["exceeds_noise"] is False
    assert verdict["median_spread_s"] == pytest.approx(0.05)
    assert verdict["p_value"] == pytest.approx(
        stats.kruskal(*[v["times_s"] for v in quiet]).pvalue, abs=0.1
    )
    assert verdict["p_value"] > 0.5
    apart = [variant(100, [10.0, 10.1, 10.2, 10.3, 10.4]), variant(2000, [9.0, 9.1, 9.2, 9.3, 9.4])]
    verdict = measure._noise_verdict(apart)
    # complete separation of 5 against 5: 2 of the 252 assignments, exactly
    assert verdict is not None and verdict["exceeds_noise"] is True
    assert verdict["p_value"] == pytest.approx(2 / 252) and verdict["method"] == "exact"
    # 3 against 3 can never reach 0.05 (at best 2 / 20): no p, and no claim either way
    small = [variant(100, [10.0, 10.1, 10.2]), variant(2000, [9.0, 9.1, 9.2])]
    verdict = measure._noise_verdict(small)
    assert verdict is not None and verdict["p_value"] is None
    assert verdict["exceeds_noise"] is False and verdict["smallest_p"] == pytest.approx(0.1)


@pytest.mark.slow
def test_gpu_path_runs_against_the_stand_in_device() -> None:
    sim = SimulatedDevice()
    data = measure.run(SMALL, [CpuDevice(), sim], _ctx())
    assert [d["device"] for d in data["per_device"]] == ["cpu", "sim:0"]
    # 4 variants (every 1, 10, 100, read once); each: a warm-up of one chunk (2 syncs),
    # then 2 repeats of 200 / 100 = 2 chunks (1 + 2 syncs each)
    assert SMALL.read_once and (SMALL.epochs, SMALL.chunk_epochs, SMALL.repeats) == (200, 100, 2)
    assert sim.synchronizations == 4 * (2 + 2 * (1 + 2)) == 32


def test_bad_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="longer than epochs"):
        logging_interval.Config(epochs=100, intervals=(1, 1000))
    with pytest.raises(ValueError, match="two different"):
        logging_interval.Config(intervals=(5,))


def test_kruskal_wallis_against_known_values() -> None:
    from experiments.contract.statistics import kruskal_wallis

    separated = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    # the permutation p: 4! of the 369,600 assignments separate the groups this completely
    # (the chi-squared approximation said 0.0156, five times too large here)
    test = kruskal_wallis(separated)
    assert test.method == "permutation"
    assert test.p_value == pytest.approx(24 / 369_600, abs=1.5e-4)
    assert kruskal_wallis([[1, 5, 9], [2, 6, 10], [3, 7, 11], [4, 8, 12]]).p_value > 0.5
