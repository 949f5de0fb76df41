"""Experiment 3 of the notes: where a training step's memory goes, measured and predicted.

The notes' MNIST and CIFAR-10 MLPs (and the Iris MLP) with SGD, SGD with
momentum and Adam, at a few batch sizes, in float32 and under autocast. Every
bucket is measured from the tensors of one real training step and predicted
from shapes and dtypes (`experiments.memory`); on CUDA the allocator's peak is
recorded too, with what the buckets leave unexplained. The data are synthetic
tensors with MNIST's and CIFAR-10's exact shapes and dtypes: memory depends on
shapes, not on pixel values, and nothing can be downloaded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from experiments import memory
from experiments.devices import Device
from experiments.harness import RunContext, seed_everything

TITLE = "Where memory goes"

# name -> (input shape of one sample, MLP widths)
MODELS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "mnist_mlp": ((1, 28, 28), (784, 128, 10)),
    "cifar10_mlp": ((3, 32, 32), (3072, 128, 10)),
    "iris_mlp": ((4,), (4, 10, 3)),
}


@dataclass(frozen=True)
class Config:
    seed: int = 0  # model weights and synthetic data
    models: tuple[str, ...] = tuple(MODELS)  # the notes' MNIST and CIFAR-10 MLPs, and Iris
    optimizers: tuple[str, ...] = ("sgd", "sgd_momentum", "adam")
    batch_sizes: tuple[int, ...] = (64, 256)  # samples per step
    autocast: bool = True  # also measure under autocast (bf16 on CPU, fp16 on GPUs)
    lr: float = 0.01  # any value: memory does not depend on it

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODELS]
        if unknown:
            raise ValueError(f"unknown models {unknown}; known: {list(MODELS)}")
        for name in self.optimizers:
            memory.optimizer_state_factor(name)  # raises KeyError for an unknown one
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError("batch_sizes must be positive")


PROFILES: dict[str, Config] = {"default": Config(), "quick": Config(batch_sizes=(64,))}


def autocast_dtype(device: Device) -> torch.dtype:
    """bf16 on CPUs (the only low precision CPU autocast supports well), fp16 on GPUs."""
    return torch.bfloat16 if device.torch_device.type == "cpu" else torch.float16


def measure_one(
    device: Device,
    model_name: str,
    optimizer_name: str,
    batch: int,
    low_precision: torch.dtype | None,
    config: Config,
) -> dict[str, Any]:
    sample_shape, widths = MODELS[model_name]
    shape = memory.MlpShape(widths)
    where = device.torch_device
    seed_everything(config.seed)
    device.synchronize()
    baseline = device.memory_allocated()
    device.reset_peak_memory_stats()
    model = shape.build().to(where)
    optimizer = memory.make_optimizer(optimizer_name, model.parameters(), config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    x = torch.rand((batch, *sample_shape), generator=generator).to(where)  # like ToTensor()
    y = torch.randint(0, widths[-1], (batch,), generator=generator).to(where)
    measured = memory.measure_step(model, optimizer, x, y, low_precision)
    device.synchronize()
    peak = device.max_memory_allocated()
    element = torch.empty((), dtype=low_precision).element_size() if low_precision else None
    predicted = memory.predict_step(
        shape, optimizer_name, batch, element, state_on_device=where.type == "cpu"
    )
    allocator = None
    if peak is not None and baseline is not None:
        allocator = {
            "peak_bytes": peak - baseline,
            "unexplained_bytes": peak - baseline - sum(measured.values()),
        }
    return {
        "model": model_name,
        "parameter_count": shape.parameter_count,
        "optimizer": optimizer_name,
        "batch": batch,
        "precision": str(low_precision).removeprefix("torch.") if low_precision else "float32",
        "measured": measured,
        "predicted": predicted,
        "match": measured == predicted,
        "allocator": allocator,
    }


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    per_device = []
    for device in devices:
        precisions: list[torch.dtype | None] = [None]
        if config.autocast:
            precisions.append(autocast_dtype(device))
        entries = []
        for model_name in config.models:
            ctx.progress.update(f"memory_breakdown | {device.name} | {model_name}")
            for optimizer_name in config.optimizers:
                for batch in config.batch_sizes:
                    for low in precisions:
                        entries.append(
                            measure_one(device, model_name, optimizer_name, batch, low, config)
                        )
        per_device.append(
            {
                "device": device.name,
                "device_name": device.describe(),
                "simulated": device.simulated,
                "entries": entries,
            }
        )
    return {"buckets": list(memory.BUCKETS), "per_device": per_device}
