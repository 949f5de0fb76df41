"""Measuring experiment 3 of the notes: where a training step's memory goes.

The notes' MNIST and CIFAR-10 MLPs (and the Iris MLP) with SGD, SGD with
momentum and Adam, at a few batch sizes, in float32 and under autocast. Every
bucket is measured from the tensors of one real training step and predicted
from shapes and dtypes (`experiments.core.memory`); on CUDA the allocator's peak is
recorded too, with what the buckets leave unexplained. The data are synthetic
tensors with MNIST's and CIFAR-10's exact shapes and dtypes: memory depends on
shapes, not on pixel values, and nothing can be downloaded here.
"""

from __future__ import annotations

from typing import Any

import torch

from experiments.core import memory
from experiments.core.devices import Device
from experiments.core.harness import RunContext, device_record, seed_everything
from experiments.suite.memory_breakdown import BUCKETS, Config
from experiments.workloads import catalog, data, models


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
    shape = catalog.MODELS[model_name]
    where = device.torch_device
    seed_everything(config.seed)
    device.synchronize()
    baseline = device.memory_allocated()
    device.reset_peak_memory_stats()
    model = models.mlp(shape).to(where)
    optimizer = models.optimizer(optimizer_name, model.parameters(), config.lr)
    batch_data = data.synthetic(shape, batch, config.seed)  # pixels in [0, 1) like ToTensor()
    x, y = batch_data.x_train.to(where), batch_data.y_train.to(where)
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
        per_device.append({**device_record(device), "entries": entries})
    return {"buckets": list(BUCKETS), "per_device": per_device}
