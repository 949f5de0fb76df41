"""How fast the machine itself was, timed again and again through a run.

A laptop warms up and throttles, a virtual machine shares its host with
strangers, a battery changes the clock: the same code then runs 10 to 40 %
slower without anything in the experiment changing, and no load figure inside
the machine shows it. So every run times one small fixed workload (the
reference) at the start and end of every experiment and about every
CHECK_EVERY_S seconds between repeats. Its spread within a run, and the shift
between two runs of one machine, are what the diff compares a difference
against before it calls it real.

The reference is the notes' regime in miniature: a few dozen steps of a tiny
MLP on the CPU with one thread, `loss.item()` every step, so it slows down
when the per-operation overheads that dominate these experiments slow down.
It runs outside every timed region and leaves torch's random state and thread
count as it found them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

# What the result files call the reference workload (the report words it).
REFERENCE = "iris_mlp_steps"
STEPS = 40  # SGD steps per reading (about 15 ms on a laptop core)
READINGS = 5  # readings per checkpoint; their median is the checkpoint's value
CHECK_EVERY_S = 10.0  # between repeats, a checkpoint when this much time has passed


def _reference_seconds(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(STEPS):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()
    return time.perf_counter() - start


def time_reference() -> list[float]:
    """READINGS clock readings of the reference workload, in seconds."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        torch.set_num_threads(1)
        try:
            model = torch.nn.Sequential(
                torch.nn.Linear(4, 10), torch.nn.ReLU(), torch.nn.Linear(10, 3)
            )
            x = torch.rand(120, 4)
            y = torch.randint(0, 3, (120,))
            _reference_seconds(model, x, y)  # its own warm-up
            return [_reference_seconds(model, x, y) for _ in range(READINGS)]
        finally:
            torch.set_num_threads(threads)


@dataclass
class Probe:
    """The reference's checkpoints during one experiment."""

    every_s: float = CHECK_EVERY_S
    started: float = field(default_factory=time.perf_counter)
    last: float | None = None
    checkpoints: list[dict[str, Any]] = field(default_factory=list)

    def checkpoint(self, *, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and self.last is not None and now - self.last < self.every_s:
            return
        readings = time_reference()
        self.last = time.perf_counter()
        self.checkpoints.append({"at_s": round(now - self.started, 3), "times_s": readings})

    def record(self) -> dict[str, Any]:
        """The result file's record (DRIFT_SPEC in the contract)."""
        return {"workload": REFERENCE, "steps": STEPS, "checkpoints": self.checkpoints}


_active: Probe | None = None


@contextlib.contextmanager
def probing(every_s: float = CHECK_EVERY_S) -> Iterator[Probe]:
    """Checkpoints at the start and the end of the block, and between repeats inside it."""
    global _active
    probe = Probe(every_s=every_s)
    probe.checkpoint(force=True)
    outer, _active = _active, probe
    try:
        yield probe
    finally:
        _active = outer  # a nested block hands the checkpoints back to the outer one
    probe.checkpoint(force=True)


def between_repeats() -> None:
    """Called by the harness outside every timed region: a checkpoint when one is due."""
    if _active is not None:
        _active.checkpoint()
