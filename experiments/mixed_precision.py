"""Experiment 5 of the notes: mixed precision (FP16 and BF16 autocast) against FP32.

The notes give the AMP recipe (`autocast` around forward and loss, a
`GradScaler` for FP16) and claims: memory halves, tensor cores make it several
to tens of times faster, accuracy barely changes. Here each mode runs the same
seeded training on every device and workload:

- fp32: plain;
- fp16: `torch.autocast(dtype=float16)` with `torch.amp.GradScaler(device)`,
  which multiplies the loss so small FP16 gradients do not underflow to zero,
  and skips a step (halving the scale) when a gradient overflows;
- bf16: `torch.autocast(dtype=bfloat16)` without a scaler: BF16 keeps FP32's
  exponent range, so gradients do not underflow.

Measured per mode: time per step, memory by bucket (`experiments.memory`),
final loss, accuracy where the data are real, the largest parameter and loss
difference from FP32, the scaler's skipped steps and final scale, non-finite
losses. A mode the device cannot run is recorded as unsupported, with why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from experiments import datasets as image_sets
from experiments import memory, workloads
from experiments.devices import Device
from experiments.harness import (
    Case,
    RunContext,
    error_reason,
    run_cases,
    seed_everything,
    set_threads,
    time_once,
)
from experiments.summary import summarize

TITLE = "Mixed precision: FP16 and BF16 against FP32"

MODES: dict[str, torch.dtype | None] = {
    "fp32": None,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}


@dataclass(frozen=True)
class Workload:
    name: str
    widths: tuple[int, ...]  # MLP layer widths: input, hidden…, classes
    batch: int
    data: str  # "synthetic" (shape only), "iris" or "digits" (real, with a test set)
    lr: float
    description: str


WORKLOADS: dict[str, Workload] = {
    "notes_mnist": Workload(
        "notes_mnist",
        (784, 128, 64, 10),
        64,
        "synthetic",
        0.01,
        "the notes' MNIST MLP 784-128-64-10, batch 64, SGD lr 0.01 (synthetic MNIST-shaped data)",
    ),
    "wide_mlp": Workload(
        "wide_mlp",
        (1024, 2048, 2048, 10),
        256,
        "synthetic",
        0.01,
        "a wide MLP 1024-2048-2048-10, batch 256: enough arithmetic for low precision to matter",
    ),
    "iris": Workload(
        "iris",
        (4, 10, 3),
        120,
        "iris",
        0.01,
        "the notes' Iris MLP 4-10-3, full batch: the tiny case",
    ),
    "digits": Workload(
        "digits",
        (64, 64, 10),
        64,
        "digits",
        0.05,
        "64-64-10 on scikit-learn's digits, batch 64: real accuracy",
    ),
}


@dataclass(frozen=True)
class Config:
    seed: int = 0  # weights, data and batch order
    workloads: tuple[str, ...] = tuple(WORKLOADS)
    modes: tuple[str, ...] = tuple(MODES)
    steps: tuple[int, ...] = (400, 10, 1000, 900)  # training steps per workload, in order
    warmup: int = 1  # discarded runs per workload, mode and device
    repeats: int = 3  # timed runs per workload, mode and device, interleaved
    threads: int = 0  # torch threads on the CPU; 0 = all physical cores
    init_scale: float = 65536.0  # GradScaler's starting scale (its default, 2**16)
    max_case_seconds: float = 60.0  # skip a mode whose runs would take longer (emulated fp16)
    data_dir: str = ""  # a local MNIST copy for the notes' MNIST workload (experiments.datasets)

    def __post_init__(self) -> None:
        unknown = [w for w in self.workloads if w not in WORKLOADS]
        unknown += [m for m in self.modes if m not in MODES]
        if unknown:
            raise ValueError(f"unknown workloads or modes {unknown}")
        if "fp32" not in self.modes:
            raise ValueError("modes must include fp32: every other mode is compared with it")
        if len(self.steps) != len(self.workloads) or min(self.steps) < 1:
            raise ValueError("steps needs one positive count per workload")
        if self.repeats < 1 or self.warmup < 1 or self.init_scale <= 0:
            raise ValueError("repeats and warmup must be >= 1, init_scale > 0")


PROFILES: dict[str, Config] = {
    "default": Config(),
    "quick": Config(workloads=("notes_mnist", "iris", "digits"), steps=(50, 200, 200)),
}


@dataclass(frozen=True)
class Dataset:
    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor | None
    y_test: torch.Tensor | None
    source: str


def dataset(workload: Workload, seed: int, samples: int, data_dir: str = "") -> Dataset:
    """The workload's data: real where it ships (Iris, digits) or the user has a local MNIST
    copy (`data_dir`), else synthetic tensors of the right shape."""
    if workload.data == "iris":
        iris = workloads.iris()
        return Dataset(iris.x_train, iris.y_train, iris.x_test, iris.y_test, "Iris (scikit-learn)")
    if workload.data == "digits":
        split = workloads.digits()
        return Dataset(
            split.x_train, split.y_train, split.x_test, split.y_test, "digits (scikit-learn)"
        )
    if data_dir and workload.widths[0] == 784:
        mnist = image_sets.load_mnist(Path(data_dir).expanduser())
        # the notes' transform: ToTensor() then Normalize((0.5,), (0.5,))
        return Dataset(
            (mnist.x_train - 0.5) / 0.5,
            mnist.y_train,
            (mnist.x_test - 0.5) / 0.5,
            mnist.y_test,
            mnist.source,
        )
    generator = torch.Generator().manual_seed(seed)
    return Dataset(
        torch.rand(samples, workload.widths[0], generator=generator),
        torch.randint(0, workload.widths[-1], (samples,), generator=generator),
        None,
        None,
        "synthetic tensors of the input shape (no accuracy)",
    )


@dataclass
class Outcome:
    losses: list[float]
    skipped_steps: int
    final_scale: float | None
    model: nn.Module


def make_trainer(
    workload: Workload, mode: str, device: Device, data: Dataset, steps: int, config: Config
) -> Callable[[], Outcome]:
    """A fresh seeded model; the returned function trains it `steps` steps in `mode`."""
    seed_everything(config.seed)
    where = device.torch_device
    model = memory.MlpShape(workload.widths).build().to(where)
    optimizer = torch.optim.SGD(model.parameters(), lr=workload.lr)
    low = MODES[mode]
    scaler = torch.amp.GradScaler(where.type, init_scale=config.init_scale, enabled=mode == "fp16")
    x, y = data.x.to(where), data.y.to(where)
    rows = x.shape[0]
    batch = min(workload.batch, rows)
    batches_per_pass = rows // batch

    def train() -> Outcome:
        losses: list[float] = []
        skipped = 0
        for step in range(steps):
            start = (step % batches_per_pass) * batch
            inputs, targets = x[start : start + batch], y[start : start + batch]
            with torch.autocast(where.type, dtype=low or torch.float32, enabled=low is not None):
                log_p = nn.functional.log_softmax(model(inputs), dim=1)
                loss = nn.functional.nll_loss(log_p, targets)
            optimizer.zero_grad()
            scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
            scale_before = scaler.get_scale() if scaler.is_enabled() else None
            scaler.step(optimizer)
            scaler.update()
            if scale_before is not None and scaler.get_scale() < scale_before:
                skipped += 1  # an inf/NaN gradient: the scaler skipped this step
            losses.append(loss.item())
        final_scale = scaler.get_scale() if scaler.is_enabled() else None
        return Outcome(losses, skipped, final_scale, model)

    return train


def _probe(
    workload: Workload, mode: str, device: Device, data: Dataset, steps: int, config: Config
) -> str | None:
    """One step on a throwaway model: why this mode cannot run here, or None.

    A mode without hardware support can be emulated at a cost of seconds per
    step (FP16 on most CPUs); where all its runs would exceed the time limit it
    is skipped, and the measured step time is the finding.
    """
    try:
        trainer = make_trainer(workload, mode, device, data, 1, config)
        elapsed, _ = time_once(device, trainer)
    except Exception as error:  # the device or build cannot run this mode
        return error_reason(error)
    projected = elapsed * steps * (config.warmup + config.repeats)
    if projected > config.max_case_seconds:
        return (
            f"too slow on this device: one step took {elapsed:.2f} s, so its runs would "
            f"take about {projected:.0f} s (limit {config.max_case_seconds:.0f} s)"
        )
    return None


def _accuracy(model: nn.Module, data: Dataset, device: Device) -> float | None:
    if data.x_test is None or data.y_test is None:
        return None
    with torch.no_grad():
        predicted = model(data.x_test.to(device.torch_device)).argmax(dim=1).cpu()
    return float((predicted == data.y_test).float().mean())


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    set_threads(config.threads or ctx.physical_cores)
    steps = dict(zip(config.workloads, config.steps, strict=True))
    datasets = {
        name: dataset(
            WORKLOADS[name], config.seed, max(WORKLOADS[name].batch * 8, 512), config.data_dir
        )
        for name in config.workloads
    }
    unsupported: dict[tuple[str, str, str], str] = {}
    for device in devices:
        for name in config.workloads:
            for mode in config.modes:
                ctx.progress.update(f"mixed_precision | {device.name}, {name}, {mode} | probe")
                reason = _probe(WORKLOADS[name], mode, device, datasets[name], steps[name], config)
                if reason:
                    unsupported[device.name, name, mode] = reason
    cases = [
        Case(device, (name, mode), f"{device.name}, {name}, {mode}")
        for device in devices
        for name in config.workloads
        for mode in config.modes
        if (device.name, name, mode) not in unsupported
    ]

    def prepare(case: Case[tuple[str, str]]) -> Callable[[], Outcome]:
        name, mode = case.variant
        return make_trainer(WORKLOADS[name], mode, case.device, datasets[name], steps[name], config)

    runs = run_cases(
        cases,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        progress=ctx.progress,
        what="mixed_precision",
    )
    by_case = {(r.device.name, *r.case.variant): r for r in runs}
    per_device = []
    for device in devices:
        per_workload = []
        for name in config.workloads:
            workload = WORKLOADS[name]
            reference = by_case.get((device.name, name, "fp32"))
            ref_out = reference.outputs[-1] if reference else None
            modes = []
            for mode in config.modes:
                result = by_case.get((device.name, name, mode))
                low = MODES[mode]
                entry: dict[str, Any] = {
                    "mode": mode,
                    "unsupported": unsupported.get((device.name, name, mode)),
                    "scaler_used": mode == "fp16",
                }
                if result is None:
                    modes.append(
                        {
                            **entry,
                            "warmup_s": [],
                            "step_s": [],
                            "summary": summarize([]),
                            "memory": None,
                            "final_loss": None,
                            "accuracy": None,
                            "max_parameter_difference": None,
                            "max_loss_difference": None,
                            "skipped_steps": None,
                            "final_scale": None,
                            "nonfinite_losses": None,
                        }
                    )
                    continue
                out = result.outputs[-1]
                step_s = [t / steps[name] for t in result.times_s]
                mem_model = memory.MlpShape(workload.widths).build().to(device.torch_device)
                x = datasets[name].x[: workload.batch].to(device.torch_device)
                y = datasets[name].y[: workload.batch].to(device.torch_device)
                measured = memory.measure_step(
                    mem_model, torch.optim.SGD(mem_model.parameters(), lr=workload.lr), x, y, low
                )
                param_diff = loss_diff = None
                if ref_out is not None:
                    param_diff = max(
                        float((a.detach().float() - b.detach().float()).abs().max())
                        for a, b in zip(
                            out.model.parameters(), ref_out.model.parameters(), strict=True
                        )
                    )
                    diffs = [abs(a - b) for a, b in zip(out.losses, ref_out.losses, strict=True)]
                    loss_diff = _finite(max(diffs))
                modes.append(
                    {
                        **entry,
                        "warmup_s": [t / steps[name] for t in result.warmup_s],
                        "step_s": step_s,
                        "summary": summarize(step_s),
                        "memory": measured,
                        "final_loss": _finite(out.losses[-1]),
                        "accuracy": _accuracy(out.model, datasets[name], device),
                        "max_parameter_difference": _finite(param_diff)
                        if param_diff is not None
                        else None,
                        "max_loss_difference": loss_diff,
                        "skipped_steps": out.skipped_steps if mode == "fp16" else None,
                        "final_scale": out.final_scale,
                        "nonfinite_losses": sum(1 for v in out.losses if not math.isfinite(v)),
                    }
                )
            per_workload.append(
                {
                    "workload": name,
                    "description": workload.description,
                    "data_source": datasets[name].source,
                    "steps": steps[name],
                    "batch": workload.batch,
                    "modes": modes,
                }
            )
        per_device.append(
            {
                "device": device.name,
                "device_name": device.describe(),
                "simulated": device.simulated,
                "workloads": per_workload,
            }
        )
    return {"init_scale": config.init_scale, "per_device": per_device}
