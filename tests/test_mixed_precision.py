"""Mixed precision: FP16 goes through the GradScaler and BF16 does not; an overflow is caught,
skipped and reported; a mode too slow to time is recorded with its measured step time."""

from __future__ import annotations

import io
from typing import Any

import pytest

from experiments.contract.shapes import check_shape
from experiments.core.devices import CpuDevice, SimulatedDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import mixed_precision
from experiments.suite.mixed_precision import Config
from experiments.suite.mixed_precision import measure as mp

SMALL = Config(workloads=("iris", "digits"), steps=(30, 300), repeats=1)  # 10 chunks each


def _ctx() -> RunContext:
    return RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)


def _modes(data: dict[str, Any], device: int, workload: int) -> dict[str, dict[str, Any]]:
    return {m["mode"]: m for m in data["per_device"][device]["workloads"][workload]["modes"]}


@pytest.mark.slow
def test_fp16_uses_the_scaler_and_bf16_does_not() -> None:
    data = mp.run(SMALL, [CpuDevice()], _ctx())
    assert check_shape(data, mixed_precision.DATA_SPEC, "d") is None
    modes = _modes(data, 0, 0)
    assert (modes["fp16"]["scaler_used"], modes["fp16"]["final_scale"]) == (True, 65536.0)
    assert (modes["bf16"]["scaler_used"], modes["bf16"]["final_scale"]) == (False, None)
    assert modes["bf16"]["skipped_steps"] is None and modes["fp16"]["skipped_steps"] == 0
    assert modes["fp32"]["max_parameter_difference"] == 0.0
    assert 0 < modes["bf16"]["max_parameter_difference"] < 0.05  # rounding, not divergence
    assert modes["fp32"]["memory"]["activations"] > modes["bf16"]["memory"]["activations"]
    digits = _modes(data, 0, 1)
    assert digits["fp32"]["accuracy"] is not None and digits["fp32"]["accuracy"] > 0.5


def test_an_overflowing_scale_is_caught_skipped_and_reported() -> None:
    huge = Config(
        workloads=("iris",), steps=(20,), modes=("fp32", "fp16"), repeats=1, init_scale=2.0**100
    )
    modes = _modes(mp.run(huge, [CpuDevice()], _ctx()), 0, 0)
    fp16 = modes["fp16"]
    assert fp16["skipped_steps"] > 0  # each overflow skipped one optimizer step
    assert fp16["final_scale"] == 2.0 ** (100 - fp16["skipped_steps"])  # halved each time
    assert fp16["nonfinite_losses"] == 0  # the loss itself stayed finite: only gradients overflowed


def test_a_mode_too_slow_to_time_is_recorded_with_the_measured_step() -> None:
    strict = Config(workloads=("iris",), steps=(10,), repeats=1, max_case_seconds=1e-9)
    modes = _modes(mp.run(strict, [CpuDevice()], _ctx()), 0, 0)
    reason = modes["fp32"]["unsupported"]
    assert reason["code"] == "too_slow" and reason["limit_s"] == 1e-9
    assert reason["step_s"] > 0 and reason["projected_s"] == reason["step_s"] * 10 * 2
    assert modes["fp32"]["step_s"] == []


def test_gpu_path_runs_on_the_stand_in() -> None:
    sim = SimulatedDevice()
    data = mp.run(Config(workloads=("iris",), steps=(10,), repeats=1), [sim], _ctx())
    assert data["per_device"][0]["device"] == "sim:0"
    assert sim.synchronizations > 0
