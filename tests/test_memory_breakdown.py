"""Memory buckets: measured from real tensors, predicted from shapes, equal to the byte."""

from __future__ import annotations

import io

import pytest
import torch

from experiments.contract.shapes import check_shape
from experiments.core import memory
from experiments.core.devices import CpuDevice, SimulatedDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import memory_breakdown
from experiments.suite.memory_breakdown import measure
from experiments.workloads import models
from experiments.workloads.catalog import MlpSpec

SHAPES = [(784, 128, 10), (3072, 128, 10), (4, 10, 3), (784, 128, 64, 10)]


@pytest.mark.parametrize("widths", SHAPES)
@pytest.mark.parametrize("optimizer", ["sgd", "sgd_momentum", "adam"])
@pytest.mark.parametrize("low", [None, torch.bfloat16])
@pytest.mark.parametrize("batch", [8, 64])
def test_measured_bytes_equal_predicted_bytes(
    widths: tuple[int, ...], optimizer: str, low: torch.dtype | None, batch: int
) -> None:
    shape = MlpSpec(widths, (widths[0],))
    torch.manual_seed(0)
    model = models.mlp(shape)
    opt = models.optimizer(optimizer, model.parameters(), 0.01)
    x = torch.rand(batch, widths[0])
    y = torch.randint(0, widths[-1], (batch,))
    measured = memory.measure_step(model, opt, x, y, low)
    assert measured == memory.predict_step(shape, optimizer, batch, 2 if low else None)


def test_known_byte_counts_of_the_mnist_mlp() -> None:
    shape = MlpSpec((784, 128, 10), (1, 28, 28))
    assert shape.parameter_count == 101_770
    predicted = memory.predict_step(shape, "adam", 64)
    assert predicted["parameters"] == 407_080 == predicted["gradients"]
    assert predicted["optimizer_state"] == 2 * 407_080 + 4 * 4  # exp_avg, exp_avg_sq, 4 steps
    assert predicted["data"] == 64 * 784 * 4 + 64 * 8
    assert predicted["activations"] == 64 * 128 * 4 + 64 * 10 * 4 + 4


def test_a_relu_output_shaped_like_a_weight_is_still_an_activation() -> None:
    """Batch 64 makes Linear(128, 64)'s weight and the first ReLU's output both 64 × 128."""
    model = models.mlp(MlpSpec((784, 128, 64, 10), (784,)))
    opt = models.optimizer("sgd", model.parameters(), 0.01)
    measured = memory.measure_step(
        model, opt, torch.rand(64, 784), torch.zeros(64).long(), torch.bfloat16
    )
    assert measured["activations"] == 64 * 128 * 2 + 64 * 64 * 2 + 64 * 10 * 4 + 4


def test_experiment_runs_on_cpu_and_stand_in() -> None:
    config = memory_breakdown.Config(batch_sizes=(16,), optimizers=("sgd", "adam"))
    ctx = RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)
    data = measure.run(config, [CpuDevice(), SimulatedDevice()], ctx)
    assert check_shape(data, memory_breakdown.DATA_SPEC, "d") is None
    cpu = data["per_device"][0]["entries"]
    assert len(cpu) == 3 * 2 * 1 * 2  # models × optimizers × batches × (fp32, autocast)
    assert all(entry["match"] for entry in cpu)
    assert {entry["precision"] for entry in cpu} == {"float32", "bfloat16"}
    assert all(entry["allocator"] is None for entry in cpu)  # no allocator on a CPU
