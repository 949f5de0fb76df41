"""Experiment step_overhead: every way is the same computation; the GPU-only paths run on the
stand-in; hooks fire only through __call__."""

from __future__ import annotations

import io

import pytest

from experiments.contract.shapes import check_shape
from experiments.core.devices import CpuDevice, SimulatedDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import step_overhead
from experiments.suite.step_overhead import measure, rungs
from experiments.workloads import data as workload_data

SMALL = step_overhead.Config(
    steps=40, chunk_steps=10, repeats=2, profile_steps=4, peak_size=64, compile_backend="eager"
)


def _ctx() -> RunContext:
    return RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)


@pytest.fixture(scope="module")
def with_stand_in() -> tuple[dict[str, object], SimulatedDevice]:
    sim = SimulatedDevice()
    return measure.run(SMALL, [CpuDevice(), sim], _ctx()), sim


def _rows(data: dict[str, object], device: int) -> dict[str, dict[str, object]]:
    per_device = data["per_device"]
    assert isinstance(per_device, list)
    return {row["variant"]: row for row in per_device[device]["variants"]}


def test_the_hook_fires_for_model_call_and_not_for_forward(
    with_stand_in: tuple[dict[str, object], SimulatedDevice],
) -> None:
    data, _ = with_stand_in
    assert data["hooks"] == {"model_call_runs_hook": True, "forward_runs_hook": False}


def test_every_variant_reaches_the_notes_result_within_tolerance(
    with_stand_in: tuple[dict[str, object], SimulatedDevice],
) -> None:
    data, _ = with_stand_in
    rows = _rows(data, 0)
    measured = [name for name, row in rows.items() if row["unsupported"] is None]
    without = {"cuda_graph"} | ({"cpp"} if rungs.compiler() is None else set())
    assert measured == [v for v in step_overhead.VARIANTS if v not in without]
    for name in measured:
        assert rows[name]["equivalent"] is True, name
    # the hand-written backward rounds differently, but only in the last bits
    manual = rows["manual"]["max_parameter_difference"]
    assert isinstance(manual, float) and manual <= SMALL.param_tolerance
    assert rows["notes"]["loss_difference"] == 0.0
    assert rows["notes"]["ops_per_step"] == rows["forward_call"]["ops_per_step"]


def test_cuda_graph_is_refused_on_the_cpu_with_a_reason(
    with_stand_in: tuple[dict[str, object], SimulatedDevice],
) -> None:
    data, _ = with_stand_in
    row = _rows(data, 0)["cuda_graph"]
    assert row["unsupported"] == {"code": "needs_cuda"}
    assert row["step_s"] == [] and row["summary"]["median"] is None  # type: ignore[index]


def test_cuda_graph_control_flow_runs_on_the_stand_in(
    with_stand_in: tuple[dict[str, object], SimulatedDevice],
) -> None:
    data, sim = with_stand_in
    row = _rows(data, 1)["cuda_graph"]
    assert row["unsupported"] is None and row["equivalent"] is True
    # one capture per trainer: the first-call probe, 1 warm-up + 2 repeats, the op count
    assert sim.captures == 1 + 3 + 1
    assert sim.replays == 2 + 3 * SMALL.steps + SMALL.profile_steps
    assert check_shape(data, step_overhead.DATA_SPEC, "data") is None


def test_floor_comes_from_the_measured_peak(
    with_stand_in: tuple[dict[str, object], SimulatedDevice],
) -> None:
    data, _ = with_stand_in
    cpu = data["per_device"][0]  # type: ignore[index]
    assert data["flops_per_step"] == 40_800
    assert cpu["peak_flops"] > 0
    assert cpu["floor_step_s"] == pytest.approx(40_800 / cpu["peak_flops"])


def test_variants_are_checked() -> None:
    with pytest.raises(ValueError, match="'turbo' is not one of"):
        step_overhead.Config(variants=("notes", "turbo"))
    with pytest.raises(ValueError, match="must include 'notes'"):
        step_overhead.Config(variants=("manual",))


def test_without_a_compiler_the_cpp_rung_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rungs, "_EXTENSION", [])
    monkeypatch.setattr(rungs, "compiler", lambda: None)
    first_call, reason = measure._probe("cpp", CpuDevice(), workload_data.iris(), SMALL)
    assert first_call is None and reason == {"code": "no_compiler"}


def test_the_cpu_only_rungs_refuse_another_device(
    with_stand_in: tuple[dict[str, object], SimulatedDevice],
) -> None:
    data, _ = with_stand_in
    rows = _rows(data, 1)
    assert rows["numpy"]["unsupported"] == rows["cpp"]["unsupported"] == {"code": "cpu_only"}


def test_the_notes_class_and_the_sequential_start_from_the_same_weights() -> None:
    import torch

    from experiments.workloads import catalog, models

    torch.manual_seed(3)
    notes = models.notes_iris(catalog.iris_mlp())
    torch.manual_seed(3)
    sequential = models.mlp(catalog.iris_mlp())
    assert type(notes).__name__ == "MLP" and [n for n, _ in notes.named_children()] == [
        "fc1",
        "relu",
        "fc2",
    ]
    for a, b in zip(notes.parameters(), sequential.parameters(), strict=True):
        assert torch.equal(a, b)
