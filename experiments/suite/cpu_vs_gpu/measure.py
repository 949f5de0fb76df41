"""Measuring experiment 1 of the notes: the same tiny Iris training loop on every device.

Faithful to the notes (Iris, 4-10-3 MLP, SGD lr 0.01, 20 000 full-batch
epochs, `loss.item()` every epoch), then a crossover sweep: the same loop on
synthetic data with batch and width growing together, to show at what size a
GPU stops losing to the CPU. On the notes' Iris size the per-step work is a
few thousand multiply-adds, so fixed costs (kernel launches, the device-to-host
copy in every `.item()`) decide the race; the sweep shows the work growing
until arithmetic decides it.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import torch

from experiments.contract.summary import summarize
from experiments.core.devices import Device
from experiments.core.harness import (
    Chunked,
    RunContext,
    device_record,
    finite,
    run_repeats,
    seed_everything,
    set_threads,
)
from experiments.suite.cpu_vs_gpu import Config
from experiments.workloads import catalog, data, loops, models


def curve_digest(losses: list[float]) -> str:
    """SHA-256 of the float32 loss values: equal digests mean bitwise-equal curves."""
    return hashlib.sha256(struct.pack(f"<{len(losses)}f", *losses)).hexdigest()


def _iris(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    split = data.iris(config.split_seed, config.test_size)
    spec = catalog.iris_mlp(config.hidden)
    set_threads(config.threads)
    trained: dict[str, torch.nn.Module] = {}

    chunk = config.chunk_epochs

    def prepare(device: Device) -> Chunked[list[float]]:
        seed_everything(config.seed)
        model = models.notes_iris(spec).to(device.torch_device)
        x = split.x_train.to(device.torch_device)
        y = split.y_train.to(device.torch_device)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
        trained[device.name] = model
        # the notes' loop, its clock read every `chunk` epochs: many values for a diff
        return Chunked(
            config.epochs // chunk,
            lambda: loops.train_like_the_notes(model, x, y, optimizer, chunk),
        )

    runs = run_repeats(
        devices,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        ctx=ctx,
        what=f"cpu_vs_gpu: Iris, {config.epochs} epochs",
    )
    per_device = []
    assert split.x_test is not None and split.y_test is not None
    for run in runs:
        where = run.device.torch_device
        accuracy = loops.accuracy(
            trained[run.device.name], split.x_test.to(where), split.y_test.to(where)
        )
        curves = [[v for part in parts for v in part] for parts in run.outputs]
        losses = curves[-1]
        digests = [curve_digest(curve) for curve in curves]
        per_device.append(
            {
                **device_record(run.device),
                "warmup_s": run.warmup_s,
                "times_s": run.times_s,
                "summary": summarize(run.times_s),
                "chunk_epochs": chunk,
                "chunk_epoch_s": [t / chunk for t in run.chunks_s],
                "final_loss": finite(losses[-1]),
                "test_accuracy": accuracy,
                "curve_every": config.curve_every,
                "curve": [finite(v) for v in losses[config.curve_every - 1 :: config.curve_every]],
                "curve_sha256": digests,
                "curves_identical": len(set(digests)) == 1,
            }
        )
    return {
        "dataset": {
            "train_rows": split.rows,
            "test_rows": int(split.x_test.shape[0]),
            "features": int(split.x_train.shape[1]),
            "classes": int(torch.unique(split.y_train).numel()),
        },
        "model": {"widths": list(spec.widths), "parameters": spec.parameter_count},
        "epochs": config.epochs,
        "threads": config.threads,
        "flops_per_epoch": spec.matmul_flops(split.rows),
        "per_device": per_device,
    }


def _crossover(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    threads = config.crossover_threads or ctx.physical_cores
    set_threads(threads)
    points: dict[str, list[dict[str, Any]]] = {device.name: [] for device in devices}
    for size in config.crossover_sizes:
        generator = torch.Generator().manual_seed(config.seed)
        x_cpu = torch.randn(size, size, generator=generator)
        y_cpu = torch.randint(0, 3, (size,), generator=generator)

        def prepare(
            device: Device,
            x_cpu: torch.Tensor = x_cpu,
            y_cpu: torch.Tensor = y_cpu,
            size: int = size,
        ) -> Chunked[float]:
            seed_everything(config.seed)
            model = models.mlp(catalog.square_mlp(size)).to(device.torch_device)
            x, y = x_cpu.to(device.torch_device), y_cpu.to(device.torch_device)
            optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
            # every step read by the clock (each ends in loss.item(), a sync anyway)
            return Chunked(config.crossover_steps, loops.notes_step(model, x, y, optimizer))

        runs = run_repeats(
            devices,
            prepare,
            warmup=1,
            repeats=config.crossover_repeats,
            ctx=ctx,
            what=f"cpu_vs_gpu: crossover, batch = width = {size}",
        )
        for run in runs:
            step_s = [t / config.crossover_steps for t in run.times_s]
            points[run.device.name].append(
                {
                    "size": size,
                    "flops_per_step": catalog.square_mlp(size).matmul_flops(size),
                    "warmup_step_s": [t / config.crossover_steps for t in run.warmup_s],
                    "step_s": step_s,
                    "summary": summarize(step_s),
                    "each_step_s": run.chunks_s,
                }
            )
    cpu_points = points[devices[0].name]
    per_device = []
    for device in devices:
        crossover = None
        if device.is_accelerator:
            crossover = first_win(cpu_points, points[device.name])
        per_device.append(
            {
                **device_record(device),
                "points": points[device.name],
                "crossover_size": crossover,
            }
        )
    return {"threads": threads, "steps": config.crossover_steps, "per_device": per_device}


def first_win(cpu: list[dict[str, Any]], other: list[dict[str, Any]]) -> int | None:
    """Smallest size from which the other device's median step is faster at every larger size."""
    crossover = None
    for cpu_point, point in reversed(list(zip(cpu, other, strict=True))):
        if point["summary"]["median"] < cpu_point["summary"]["median"]:
            crossover = point["size"]
        else:
            break
    return crossover


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    """Both parts; `devices[0]` is the CPU that every accelerator is compared with."""
    if not devices or devices[0].kind != "cpu":
        raise ValueError("cpu_vs_gpu needs the CPU as its first device")
    return {"iris": _iris(config, devices, ctx), "crossover": _crossover(config, devices, ctx)}
