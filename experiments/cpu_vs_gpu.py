"""Experiment 1 of the notes: the same tiny Iris training loop on the CPU and on each GPU.

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
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from experiments import workloads
from experiments.devices import Device
from experiments.harness import RunContext, run_repeats, seed_everything, set_threads
from experiments.summary import summarize

TITLE = "CPU vs GPU on Iris"


@dataclass(frozen=True)
class Config:
    seed: int = 0  # seeds torch/NumPy/random before every repeat: same start weights everywhere
    epochs: int = 20_000  # the notes' 20 000 full-batch epochs
    lr: float = 0.01  # the notes' SGD learning rate
    hidden: int = 10  # Linear(4, hidden) -> ReLU -> Linear(hidden, 3)
    split_seed: int = 42  # train_test_split(random_state=42), as in the notes
    test_size: float = 0.2  # the notes' 80/20 split
    warmup: int = 1  # discarded first runs per device (lazy imports, allocator, caches)
    repeats: int = 5  # measured runs per device, interleaved across devices
    threads: int = 1  # torch intra-op threads for the Iris loop; more only adds sync cost
    curve_every: int = 10  # keep every k-th epoch's loss in the file (all epochs are hashed)
    crossover_sizes: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)  # batch = width
    crossover_steps: int = 20  # training steps timed per size and repeat
    crossover_repeats: int = 3  # measured runs per size and device
    crossover_threads: int = 0  # threads for the sweep; 0 = all physical cores (fair to the CPU)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.repeats < 1 or self.warmup < 1:
            raise ValueError("epochs, repeats and warmup must each be at least 1")
        if self.curve_every < 1 or self.epochs % self.curve_every:
            raise ValueError(f"curve_every ({self.curve_every}) must divide epochs ({self.epochs})")
        if not self.crossover_sizes or min(self.crossover_sizes) < 1:
            raise ValueError("crossover_sizes must be positive sizes")
        if self.crossover_steps < 1 or self.crossover_repeats < 1:
            raise ValueError("crossover_steps and crossover_repeats must each be at least 1")
        if self.threads < 1 or self.crossover_threads < 0:
            raise ValueError("threads must be at least 1 and crossover_threads at least 0")


PROFILES: dict[str, Config] = {
    "default": Config(),
    "quick": Config(
        epochs=1000,
        repeats=3,
        crossover_sizes=(16, 64, 256),
        crossover_steps=5,
        crossover_repeats=3,
    ),
}


def curve_digest(losses: list[float]) -> str:
    """SHA-256 of the float32 loss values: equal digests mean bitwise-equal curves."""
    return hashlib.sha256(struct.pack(f"<{len(losses)}f", *losses)).hexdigest()


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _iris(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    data = workloads.iris(config.split_seed, config.test_size)
    set_threads(config.threads)
    models: dict[str, nn.Module] = {}

    def prepare(device: Device) -> Callable[[], list[float]]:
        seed_everything(config.seed)
        model = workloads.iris_mlp(config.hidden).to(device.torch_device)
        x = data.x_train.to(device.torch_device)
        y = data.y_train.to(device.torch_device)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
        models[device.name] = model
        return lambda: workloads.train_like_the_notes(model, x, y, optimizer, config.epochs)

    runs = run_repeats(
        devices,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        progress=ctx.progress,
        what=f"cpu_vs_gpu: Iris, {config.epochs} epochs",
    )
    per_device = []
    for run in runs:
        model = models[run.device.name]
        with torch.no_grad():
            predicted = model(data.x_test.to(run.device.torch_device)).argmax(dim=1).cpu()
        accuracy = float((predicted == data.y_test).float().mean())
        losses = run.outputs[-1]
        digests = [curve_digest(curve) for curve in run.outputs]
        per_device.append(
            {
                "device": run.device.name,
                "device_name": run.device.describe(),
                "simulated": run.device.simulated,
                "warmup_s": run.warmup_s,
                "times_s": run.times_s,
                "summary": summarize(run.times_s),
                "final_loss": _finite(losses[-1]),
                "test_accuracy": accuracy,
                "curve_every": config.curve_every,
                "curve": [_finite(v) for v in losses[config.curve_every - 1 :: config.curve_every]],
                "curve_sha256": digests,
                "curves_identical": len(set(digests)) == 1,
            }
        )
    return {
        "dataset": {
            "train_rows": int(data.x_train.shape[0]),
            "test_rows": int(data.x_test.shape[0]),
            "features": int(data.x_train.shape[1]),
            "classes": int(torch.unique(data.y_train).numel()),
        },
        "model": {
            "description": f"Linear(4, {config.hidden}) -> ReLU -> Linear({config.hidden}, 3)",
            "parameters": workloads.parameter_count(workloads.iris_mlp(config.hidden)),
        },
        "epochs": config.epochs,
        "threads": config.threads,
        "flops_per_epoch": workloads.mlp_matmul_flops(
            int(data.x_train.shape[0]), [4, config.hidden, 3]
        ),
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
        ) -> Callable[[], list[float]]:
            seed_everything(config.seed)
            model = nn.Sequential(nn.Linear(size, size), nn.ReLU(), nn.Linear(size, 3))
            model = model.to(device.torch_device)
            x, y = x_cpu.to(device.torch_device), y_cpu.to(device.torch_device)
            optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
            return lambda: workloads.train_like_the_notes(
                model, x, y, optimizer, config.crossover_steps
            )

        runs = run_repeats(
            devices,
            prepare,
            warmup=1,
            repeats=config.crossover_repeats,
            progress=ctx.progress,
            what=f"cpu_vs_gpu: crossover, batch = width = {size}",
        )
        for run in runs:
            step_s = [t / config.crossover_steps for t in run.times_s]
            points[run.device.name].append(
                {
                    "size": size,
                    "flops_per_step": workloads.mlp_matmul_flops(size, [size, size, 3]),
                    "warmup_step_s": [t / config.crossover_steps for t in run.warmup_s],
                    "step_s": step_s,
                    "summary": summarize(step_s),
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
                "device": device.name,
                "device_name": device.describe(),
                "simulated": device.simulated,
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
