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
Two more workloads are timed at the same moments, because a machine does not
slow every kind of work alike: a busy host stretches microsecond-scale calls and
work on two threads more than it stretches the MLP steps. `tiny_ops` is a loop
of one-element additions: the dispatch cost that the microsecond timings (the
C++ and NumPy steps, the crossover's small steps, every step of data
parallelism's small model) are made of. `two_threads` is a small layer's
forward and backward on two threads: it slows down when anything else wants
the second core, as the crossover's threaded steps and the processes of data
parallelism do. The diff holds a timing on one core against the two one-thread
workloads and a timing on several cores against all three. All run
outside every timed region and leave torch's random state and thread count as
they found them.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from experiments.contract.drift import MLP_STEPS, TINY_OPS, TWO_THREADS

# What the result files call the reference workload (the report words it).
REFERENCE = MLP_STEPS
STEPS = 40  # SGD steps per reading (about 15 ms on a laptop core)
READINGS = 3  # readings per checkpoint; their median is the checkpoint's value
# Between repeats, a checkpoint when this much time has passed. A virtual machine's host
# changes speed for spells of a few seconds, which checkpoints further apart miss; a
# checkpoint (a warm-up round and READINGS readings of the three workloads) costs about a
# tenth of a second and comes only between repeats.
CHECK_EVERY_S = 2.5
TINY_OPS_CALLS = 1000  # one-element additions per reading of `tiny_ops` (a few ms)
TWO_THREAD_STEPS = 20  # forward + backward of a 64-wide layer per reading of `two_threads`
TWO_THREAD_WIDTH = 64


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


def _tiny_ops_seconds(a: torch.Tensor, b: torch.Tensor) -> float:
    start = time.perf_counter()
    for _ in range(TINY_OPS_CALLS):
        torch.add(a, b)
    return time.perf_counter() - start


def _two_threads_seconds(layer: torch.nn.Module, x: torch.Tensor) -> float:
    start = time.perf_counter()
    for _ in range(TWO_THREAD_STEPS):
        layer(x).sum().backward()
    return time.perf_counter() - start


def two_threads() -> int:
    """Threads of the `two_threads` workload: two, or one on a one-CPU machine."""
    return min(2, os.cpu_count() or 1)


def time_reference() -> dict[str, Any]:
    """READINGS clock readings of each reference workload, in seconds, taken in turns so
    that all see the same moments: `times_s` (the Iris MLP steps) and `others`."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        try:
            model = torch.nn.Sequential(
                torch.nn.Linear(4, 10), torch.nn.ReLU(), torch.nn.Linear(10, 3)
            )
            x = torch.rand(120, 4)
            y = torch.randint(0, 3, (120,))
            one = torch.ones(1), torch.ones(1)
            layer = torch.nn.Linear(TWO_THREAD_WIDTH, TWO_THREAD_WIDTH)
            wide = torch.rand(TWO_THREAD_WIDTH, TWO_THREAD_WIDTH)
            iris: list[float] = []
            others: dict[str, list[float]] = {TINY_OPS: [], TWO_THREADS: []}
            for reading in range(READINGS + 1):  # the first round is their warm-up
                torch.set_num_threads(1)
                seconds = _reference_seconds(model, x, y)
                tiny = _tiny_ops_seconds(*one)
                torch.set_num_threads(two_threads())
                shared = _two_threads_seconds(layer, wide)
                if reading:
                    iris.append(seconds)
                    others[TINY_OPS].append(tiny)
                    others[TWO_THREADS].append(shared)
            return {"times_s": iris, "others": others}
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
        self.checkpoints.append({"at_s": round(now - self.started, 3), **readings})

    def record(self) -> dict[str, Any]:
        """The result file's record (DRIFT_SPEC in the contract)."""
        return {
            "every_s": self.every_s,
            "workload": REFERENCE,
            "steps": STEPS,
            "others": {
                TINY_OPS: {"count": TINY_OPS_CALLS, "threads": 1},
                TWO_THREADS: {"count": TWO_THREAD_STEPS, "threads": two_threads()},
            },
            "checkpoints": self.checkpoints,
        }


@contextlib.contextmanager
def probing(every_s: float = CHECK_EVERY_S) -> Iterator[Probe]:
    """Checkpoints at the start and the end of the block; in between, `probe.checkpoint`
    is the run's between-repeats hook (harness.Hooks), which takes one when it is due."""
    probe = Probe(every_s=every_s)
    probe.checkpoint(force=True)
    yield probe
    probe.checkpoint(force=True)
