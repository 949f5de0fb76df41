"""Measuring experiment 5 of the notes: mixed precision (FP16 and BF16 autocast) against FP32.

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

Measured per mode: time per step, memory by bucket (`experiments.core.memory`),
final loss, accuracy where the data are real, the largest parameter and loss
difference from FP32, the scaler's skipped steps and final scale, non-finite
losses. A mode the device cannot run is recorded as unsupported, with why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from experiments.contract.summary import summarize
from experiments.core import memory
from experiments.core.devices import Device
from experiments.core.harness import (
    Case,
    CaseRepeats,
    Chunked,
    NotHere,
    RunContext,
    device_record,
    finite,
    run_cases,
    seed_everything,
    set_threads,
    time_once,
    unsupported_reason,
)
from experiments.suite.mixed_precision import WORKLOADS, Config, Workload
from experiments.workloads import catalog, data, loops, models

DTYPES: dict[str, torch.dtype | None] = {
    "fp32": None,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}


def dataset(workload: Workload, seed: int, samples: int, data_dir: str = "") -> data.Split:
    """The workload's data: real where it ships (Iris, digits) or the user has a local MNIST
    copy (`data_dir`), else synthetic tensors of the right shape."""
    if workload.data == "iris":
        return data.iris()
    if workload.data == "digits":
        return data.digits()
    if data_dir and catalog.REAL_DATA.get(workload.model) == "mnist_files":
        mnist = data.from_files("mnist_files", data_dir)
        assert mnist.x_test is not None
        # the notes' transform: ToTensor() then Normalize((0.5,), (0.5,))
        return data.Split(
            (mnist.x_train - 0.5) / 0.5,
            mnist.y_train,
            (mnist.x_test - 0.5) / 0.5,
            mnist.y_test,
            kind=mnist.kind,
            path=mnist.path,
        )
    return data.synthetic(catalog.MODELS[workload.model], samples, seed)


@dataclass
class Outcome:
    losses: list[float]
    skipped_steps: int
    final_scale: float | None
    model: nn.Module


class Training:
    """One mode's training of a fresh seeded model, `steps` steps in all, done in calls of
    a few steps each (the clock is read between calls); `outcome()` when it is over."""

    def __init__(
        self, workload: Workload, mode: str, device: Device, split: data.Split, config: Config
    ) -> None:
        seed_everything(config.seed)
        where = device.torch_device
        self.model = models.mlp(catalog.MODELS[workload.model]).to(where)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=workload.lr)
        self.where = where
        self.low = DTYPES[mode]
        self.scaler = torch.amp.GradScaler(
            where.type, init_scale=config.init_scale, enabled=mode == "fp16"
        )
        self.x, self.y = split.x_train.to(where), split.y_train.to(where)
        self.batch = min(workload.batch, int(self.x.shape[0]))
        self.batches_per_pass = int(self.x.shape[0]) // self.batch
        self.step = 0
        self.losses: list[float] = []
        self.skipped = 0

    def run(self, steps: int) -> None:
        model, optimizer, scaler, low = self.model, self.optimizer, self.scaler, self.low
        for _ in range(steps):
            start = (self.step % self.batches_per_pass) * self.batch
            inputs = self.x[start : start + self.batch]
            targets = self.y[start : start + self.batch]
            with torch.autocast(
                self.where.type, dtype=low or torch.float32, enabled=low is not None
            ):
                log_p = nn.functional.log_softmax(model(inputs), dim=1)
                loss = nn.functional.nll_loss(log_p, targets)
            optimizer.zero_grad()
            scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
            scale_before = scaler.get_scale() if scaler.is_enabled() else None
            scaler.step(optimizer)
            scaler.update()
            if scale_before is not None and scaler.get_scale() < scale_before:
                self.skipped += 1  # an inf/NaN gradient: the scaler skipped this step
            self.losses.append(loss.item())
            self.step += 1

    def outcome(self) -> Outcome:
        final_scale = self.scaler.get_scale() if self.scaler.is_enabled() else None
        return Outcome(self.losses, self.skipped, final_scale, self.model)


def _probe(
    workload: Workload, mode: str, device: Device, split: data.Split, steps: int, config: Config
) -> dict[str, Any] | None:
    """One step on a throwaway model: why this mode cannot run here, or None.

    A mode without hardware support can be emulated at a cost of seconds per
    step (FP16 on most CPUs); where all its runs would exceed the time limit it
    is skipped, and the measured step time is the finding.
    """
    try:
        training = Training(workload, mode, device, split, config)
        elapsed, _ = time_once(device, lambda: training.run(1))
        projected = elapsed * steps * (config.warmup + config.repeats)
        if projected > config.max_case_seconds:
            raise NotHere(
                "too_slow", step_s=elapsed, projected_s=projected, limit_s=config.max_case_seconds
            )
    except Exception as error:  # the device or build cannot run this mode (or not in time)
        return unsupported_reason(error)
    return None


def _accuracy(model: nn.Module, split: data.Split, device: Device) -> float | None:
    if split.x_test is None or split.y_test is None:
        return None
    where = device.torch_device
    return loops.accuracy(model, split.x_test.to(where), split.y_test.to(where))


def _not_timed(mode: str, reason: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "mode": mode,
        "unsupported": reason,
        "scaler_used": mode == "fp16",
        "warmup_s": [],
        "step_s": [],
        "summary": summarize([]),
        "chunk_steps": None,
        "chunk_step_s": [],
        "memory": None,
        "final_loss": None,
        "accuracy": None,
        "max_parameter_difference": None,
        "max_loss_difference": None,
        "skipped_steps": None,
        "final_scale": None,
        "nonfinite_losses": None,
    }


def _timed(
    mode: str,
    workload: Workload,
    split: data.Split,
    device: Device,
    steps: int,
    result: CaseRepeats[tuple[str, str], None],
    out: Outcome,
    reference: Outcome | None,
    chunks: int,
) -> dict[str, Any]:
    """One mode's record: its timings, one step's memory by bucket, and how far its training
    (`out`, the last timed run) drifted from FP32's (`reference`, the same seed in full
    precision)."""
    step_s = [t / steps for t in result.times_s]
    chunk_steps = steps // chunks
    where = device.torch_device
    mem_model = models.mlp(catalog.MODELS[workload.model]).to(where)
    measured = memory.measure_step(
        mem_model,
        torch.optim.SGD(mem_model.parameters(), lr=workload.lr),
        split.x_train[: workload.batch].to(where),
        split.y_train[: workload.batch].to(where),
        DTYPES[mode],
    )
    param_diff = loss_diff = None
    if reference is not None:
        param_diff = finite(
            max(
                float((a.detach().float() - b.detach().float()).abs().max())
                for a, b in zip(out.model.parameters(), reference.model.parameters(), strict=True)
            )
        )
        loss_diff = finite(
            max(abs(a - b) for a, b in zip(out.losses, reference.losses, strict=True))
        )
    return {
        "mode": mode,
        "unsupported": None,
        "scaler_used": mode == "fp16",
        "warmup_s": [t / steps for t in result.warmup_s],
        "step_s": step_s,
        "summary": summarize(step_s),
        "chunk_steps": chunk_steps,
        "chunk_step_s": [t / chunk_steps for t in result.chunks_s],
        "memory": measured,
        "final_loss": finite(out.losses[-1]),
        "accuracy": _accuracy(out.model, split, device),
        "max_parameter_difference": param_diff,
        "max_loss_difference": loss_diff,
        "skipped_steps": out.skipped_steps if mode == "fp16" else None,
        "final_scale": out.final_scale,
        "nonfinite_losses": sum(1 for v in out.losses if not math.isfinite(v)),
    }


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    set_threads(config.threads or ctx.physical_cores)
    steps = dict(zip(config.workloads, config.steps, strict=True))
    splits = {
        name: dataset(
            WORKLOADS[name], config.seed, max(WORKLOADS[name].batch * 8, 512), config.data_dir
        )
        for name in config.workloads
    }
    unsupported: dict[tuple[str, str, str], dict[str, Any]] = {}
    for device in devices:
        for name in config.workloads:
            for mode in config.modes:
                ctx.progress.update(f"mixed_precision | {device.name}, {name}, {mode} | probe")
                reason = _probe(WORKLOADS[name], mode, device, splits[name], steps[name], config)
                if reason:
                    unsupported[device.name, name, mode] = reason
    cases = [
        Case(device, (name, mode), f"{device.name}, {name}, {mode}")
        for device in devices
        for name in config.workloads
        for mode in config.modes
        if (device.name, name, mode) not in unsupported
    ]

    trainings: dict[tuple[str, str, str], Training] = {}

    def prepare(case: Case[tuple[str, str]]) -> Chunked[None]:
        name, mode = case.variant
        training = Training(WORKLOADS[name], mode, case.device, splits[name], config)
        trainings[case.device.name, name, mode] = training  # the last one built: the last run
        chunk = steps[name] // config.chunks
        return Chunked(config.chunks, lambda: training.run(chunk))

    runs = run_cases(
        cases,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        ctx=ctx,
        what="mixed_precision",
    )
    by_case = {(r.device.name, *r.case.variant): r for r in runs}
    per_device = []
    for device in devices:
        per_workload = []
        for name in config.workloads:
            fp32 = by_case.get((device.name, name, "fp32"))
            reference = trainings[device.name, name, "fp32"].outcome() if fp32 else None
            modes = []
            for mode in config.modes:
                result = by_case.get((device.name, name, mode))
                modes.append(
                    _not_timed(mode, unsupported.get((device.name, name, mode)))
                    if result is None
                    else _timed(
                        mode,
                        WORKLOADS[name],
                        splits[name],
                        device,
                        steps[name],
                        result,
                        trainings[device.name, name, mode].outcome(),
                        reference,
                        config.chunks,
                    )
                )
            per_workload.append(
                {
                    "workload": name,
                    "data_source": splits[name].source,
                    "steps": steps[name],
                    "batch": WORKLOADS[name].batch,
                    "modes": modes,
                }
            )
        per_device.append({**device_record(device), "workloads": per_workload})
    return {"init_scale": config.init_scale, "per_device": per_device}
