"""Experiment 1: faithful loop, bitwise reproducibility on CPU, the GPU path via the stand-in."""

from __future__ import annotations

import io

from experiments.contract.shapes import check_shape
from experiments.core.devices import CpuDevice, SimulatedDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import cpu_vs_gpu
from experiments.suite.cpu_vs_gpu import measure
from experiments.workloads import catalog, data, models

SMALL = cpu_vs_gpu.Config(
    epochs=300,
    chunk_epochs=100,
    repeats=2,
    crossover_sizes=(8, 16),
    crossover_steps=2,
    crossover_repeats=2,
)


def _ctx() -> RunContext:
    return RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)


def test_matmul_flops_counted_by_hand() -> None:
    # forward 2·120·(4·10 + 10·3) = 16 800; weight grads the same; input grad of layer 2: 7 200
    assert catalog.iris_mlp().matmul_flops(120) == 40_800
    assert catalog.square_mlp(16).matmul_flops(16) == 4 * 16**3 + 18 * 16**2


def test_iris_as_the_notes_prepare_it() -> None:
    iris = data.iris()
    assert iris.x_test is not None
    assert tuple(iris.x_train.shape) == (120, 4) and tuple(iris.x_test.shape) == (30, 4)
    assert float(iris.x_train.min()) == 0.0 and float(iris.x_train.max()) == 1.0
    assert models.parameter_count(models.mlp(catalog.iris_mlp())) == 4 * 10 + 10 + 10 * 3 + 3
    assert catalog.iris_mlp().parameter_count == 4 * 10 + 10 + 10 * 3 + 3


def test_same_seed_gives_bitwise_identical_loss_curves_on_cpu() -> None:
    first = measure.run(SMALL, [CpuDevice()], _ctx())["iris"]["per_device"][0]
    second = measure.run(SMALL, [CpuDevice()], _ctx())["iris"]["per_device"][0]
    assert first["curves_identical"] is True
    assert first["curve_sha256"][0] == second["curve_sha256"][0]
    assert first["curve"] == second["curve"]
    other_seed = cpu_vs_gpu.Config(**{**SMALL.__dict__, "seed": 1})
    third = measure.run(other_seed, [CpuDevice()], _ctx())["iris"]["per_device"][0]
    assert third["curve_sha256"][0] != first["curve_sha256"][0]


def test_loss_falls_and_the_model_learns() -> None:
    config = cpu_vs_gpu.Config(
        epochs=2000,
        chunk_epochs=1000,
        repeats=1,
        crossover_sizes=(8,),
        crossover_steps=1,
        crossover_repeats=1,
    )
    iris = measure.run(config, [CpuDevice()], _ctx())["iris"]["per_device"][0]
    assert iris["curve"][0] > iris["final_loss"]
    assert iris["test_accuracy"] > 0.6


def test_gpu_path_runs_against_the_stand_in_device() -> None:
    sim = SimulatedDevice()
    result = measure.run(SMALL, [CpuDevice(), sim], _ctx())
    iris = result["iris"]["per_device"]
    assert [e["device"] for e in iris] == ["cpu", "sim:0"]
    assert [e["simulated"] for e in iris] == [False, True]
    # Same seed and the same (CPU) arithmetic: the stand-in's curve equals the CPU's bit for bit.
    assert iris[0]["curve_sha256"] == iris[1]["curve_sha256"]
    # every repeat (1 warm-up + 2) synchronises once at its start and once after each chunk:
    # Iris in 300 / 100 = 3 chunks, each crossover size in its 2 steps read one by one
    iris_syncs = (1 + 2) * (1 + SMALL.epochs // SMALL.chunk_epochs)
    crossover_syncs = (1 + 2) * (1 + SMALL.crossover_steps) * len(SMALL.crossover_sizes)
    assert (SMALL.epochs, SMALL.chunk_epochs, SMALL.repeats, SMALL.crossover_steps) == (
        300,
        100,
        2,
        2,
    )
    assert sim.synchronizations == iris_syncs + crossover_syncs == 30
    crossover = result["crossover"]["per_device"]
    assert crossover[0]["crossover_size"] is None
    assert [p["size"] for p in crossover[1]["points"]] == [8, 16]
    assert check_shape(result, cpu_vs_gpu.DATA_SPEC, "data") is None


def _point(size: int, median: float) -> dict[str, object]:
    return {"size": size, "summary": {"median": median}}


def test_crossover_is_the_first_size_from_which_the_gpu_always_wins() -> None:
    cpu = [_point(16, 1.0), _point(64, 2.0), _point(256, 8.0), _point(1024, 64.0)]
    gpu = [_point(16, 3.0), _point(64, 1.0), _point(256, 9.0), _point(1024, 2.0)]
    assert measure.first_win(cpu, gpu) == 1024
    gpu[2] = _point(256, 3.0)
    assert measure.first_win(cpu, gpu) == 64
    assert measure.first_win(cpu, [_point(s, 99.0) for s in (16, 64, 256, 1024)]) is None
