"""Batch size: the OOM search finds a planted limit and frees every failed try; the CPU
prediction is confirmed by a real step; larger batches learn less from the same samples."""

from __future__ import annotations

import io

import pytest

from experiments.contract.shapes import check_shape
from experiments.core import memory
from experiments.core.devices import CpuDevice, SimulatedDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import batch_size_scaling
from experiments.suite.batch_size_scaling import Config
from experiments.suite.batch_size_scaling import measure as bss
from experiments.workloads.catalog import MODELS

SMALL = Config(
    max_batch=64, samples_per_epoch=128, repeats=1, quality_batches=(4, 512), quality_epochs=2
)


def _ctx() -> RunContext:
    return RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)


def _peak(batch: int) -> int:
    return sum(memory.predict_step(MODELS["mnist_mlp"], "sgd", batch).values())


@pytest.mark.slow
def test_the_search_finds_the_planted_limit_and_leaks_nothing() -> None:
    sim = SimulatedDevice(memory_budget=_peak(300))
    found = bss.search_largest(sim, SMALL)
    assert found["largest_batch"] == 300
    tried = [step["batch"] for step in found["search"]]
    assert tried[:6] == [16, 32, 64, 128, 256, 512]  # the notes' doubling
    assert found["search"][5]["fits"] is False
    assert found["leaked_bytes"] == 0 and sim.held == 0
    assert sim.cache_emptied == len(tried)  # freed after every try, failed or not
    assert sim.fraction == 1.0  # the cap is lifted again


def test_a_memory_fraction_lowers_the_limit() -> None:
    sim = SimulatedDevice(memory_budget=_peak(300))
    half = Config(**{**SMALL.__dict__, "memory_fraction": 0.5})
    found = bss.search_largest(sim, half)
    assert found["largest_batch"] is not None
    assert _peak(found["largest_batch"]) <= _peak(300) * 0.5 < _peak(found["largest_batch"] + 1)


@pytest.mark.slow
def test_experiment_on_cpu_predicts_and_confirms_on_the_stand_in_searches() -> None:
    config = Config(**{**SMALL.__dict__, "memory_budget_bytes": _peak(300)})
    data = bss.run(config, [CpuDevice(), SimulatedDevice(memory_budget=_peak(200))], _ctx())
    assert check_shape(data, batch_size_scaling.DATA_SPEC, "d") is None
    cpu, sim = data["per_device"]
    assert [p["batch"] for p in cpu["points"]] == [16, 32, 64]
    assert [p["peak_bytes"] for p in cpu["points"]] == [_peak(16), _peak(32), _peak(64)]
    assert cpu["memory_fit"]["slope"] == pytest.approx(784 * 4 + 8 + 128 * 4 + 10 * 4)  # per sample
    limit = cpu["limit"]
    assert (limit["method"], limit["predicted_largest_batch"]) == ("prediction", 300)
    assert limit["recommended_batch"] == 240  # 0.8 × 300
    assert limit["confirmed_peak_bytes"] == limit["predicted_peak_bytes"] == _peak(240)
    assert (sim["limit"]["method"], sim["limit"]["largest_batch"]) == ("search", 200)
    assert sim["limit"]["recommended_batch"] == 160


def test_a_larger_batch_learns_less_from_the_same_samples() -> None:
    quality = bss._quality(SMALL, _ctx())
    small, large = quality["points"]
    assert (small["batch"], large["batch"]) == (4, 512)
    assert small["steps"] == quality["sample_budget"] // 4
    assert small["test_accuracy"] > large["test_accuracy"]
