"""How many operators, kernels and synchronisations one step of a variant costs: the step
run under torch's profiler (its own module: the profiler is the one piece of this
experiment a worker process that repeats the timings never needs)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.profiler import DeviceType, ProfilerActivity

from experiments.core.devices import Device

SYNC_EVENTS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize")


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """The profiler's C++ side writes a "USDT: profiler_start/stop" line per use to file
    descriptor 2, which no setting turns off; hide it so progress stays readable."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w", encoding="utf-8") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def count_operations(
    run: Callable[[int], object], device: Device, steps: int
) -> dict[str, float | None]:
    """Operators dispatched, GPU kernels launched and host-device synchronisations per step."""
    activities = [ProfilerActivity.CPU]
    if device.kind == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with _stderr_silenced(), torch.profiler.profile(activities=activities) as profile:
        run(steps)
    events = list(profile.events())

    def top_level_op(event: Any) -> bool:
        parent = event.cpu_parent
        return bool(event.name.startswith("aten::")) and not (
            parent is not None and parent.name.startswith("aten::")
        )

    ops = sum(1 for event in events if top_level_op(event))
    result: dict[str, float | None] = {
        "ops_per_step": ops / steps,
        "kernels_per_step": None,
        "syncs_per_step": None,
    }
    if device.kind == "cuda":
        kernels = sum(1 for event in events if event.device_type == DeviceType.CUDA)
        syncs = sum(1 for event in events if event.name in SYNC_EVENTS)
        result["kernels_per_step"] = kernels / steps
        result["syncs_per_step"] = syncs / steps
    return result
