"""What one rank trains and sends: the model, its share of each batch, the wrappers
(DistributedDataParallel, nn.DataParallel) and the all-reduce of the same bytes on its own.

The loss is the mean over a rank's samples; DDP averages the ranks' gradients,
so with equal shares the processes together compute the gradient of the mean
over the whole global batch: the same step as one process on all of it, up to
the order of float additions. `check` holds the experiment to that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from experiments.core.harness import Chunked, seed_everything
from experiments.suite.data_parallel.plan import Setup
from experiments.workloads import models
from experiments.workloads.catalog import MlpSpec

# How many distinct global batches the steps cycle through.
DISTINCT_BATCHES = 4


def synthetic(spec: MlpSpec, samples: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The samples `experiments.workloads.data.synthetic` makes (a test holds them equal),
    without importing that module: it loads scikit-learn, which costs every worker 1.2 s
    of its start on a small machine."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand((samples, *spec.sample_shape), generator=generator)
    y = torch.randint(0, spec.classes, (samples,), generator=generator)
    return x, y


@dataclass(frozen=True)
class Samples:
    """Synthetic samples of the workload's shape (speed depends on shapes only), enough for
    DISTINCT_BATCHES global batches of the largest configuration; the same on every rank."""

    x: torch.Tensor
    y: torch.Tensor
    largest_batch: int

    @classmethod
    def make(cls, spec: MlpSpec, largest_batch: int, seed: int, where: torch.device) -> Samples:
        x, y = synthetic(spec, largest_batch * DISTINCT_BATCHES, seed)
        return cls(x.to(where), y.to(where), largest_batch)

    def batches(
        self, setup: Setup, batch: int, rank: int, steps: int
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """This rank's inputs and labels for each of `steps` steps (views, made off the clock):
        step s uses global batch s mod DISTINCT_BATCHES, of which each of several processes
        takes its share (DataParallel, one process, takes all of it and splits it itself)."""
        shared = setup.ranks > 1
        share = setup.per_process_batch(batch) if shared else setup.global_batch(batch)
        offset = rank * share if shared else 0
        views = []
        for step in range(steps):
            start = (step % DISTINCT_BATCHES) * self.largest_batch + offset
            views.append((self.x[start : start + share], self.y[start : start + share]))
        return views


def fresh_model(spec: MlpSpec, seed: int, where: torch.device) -> nn.Module:
    """The same initial weights in every process and every repeat."""
    seed_everything(seed)
    return models.mlp(spec).to(where)


def wrap(
    model: nn.Module,
    setup: Setup,
    kind: str,
    where: torch.device,
    group: dist.ProcessGroup | None,
) -> nn.Module:
    """The model as `setup` trains it. DDP gets this process's GPU (`device_ids`) on CUDA
    and none on a CPU; DataParallel gets the first `processes` GPUs. On the stand-in,
    DataParallel is given none: on a machine without a GPU it then calls the module
    directly, which walks its control flow without pretending to measure it."""
    if setup.method == "ddp":
        return ddp(model, kind, where, group)
    if setup.method == "data_parallel":
        gpus = list(range(setup.processes)) if kind == "cuda" else None
        return nn.DataParallel(model, device_ids=gpus)
    return model


def ddp(
    model: nn.Module, kind: str, where: torch.device, group: dist.ProcessGroup | None
) -> DistributedDataParallel:
    """One replica per process: on CUDA the process's own GPU, on a CPU no device ids."""
    ids = [where.index] if kind == "cuda" and where.index is not None else None
    return DistributedDataParallel(model, device_ids=ids, process_group=group)


def inner(model: nn.Module) -> nn.Module:
    """The trained module inside a wrapper."""
    wrapped = getattr(model, "module", None)
    return wrapped if isinstance(wrapped, nn.Module) else model


def trainer(
    model: nn.Module, batches: Sequence[tuple[torch.Tensor, torch.Tensor]], lr: float
) -> Callable[[], None]:
    """The timed body: the notes' step (zero_grad, forward, loss, backward, SGD step) on each
    batch, nothing read back to the host inside the loop."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def train() -> None:
        for inputs, targets in batches:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()

    return train


def chunks_for(steps: int) -> int:
    """How many equal chunks a repeat of `steps` steps is read in (10 where it divides)."""
    return next(c for c in (10, 8, 5, 4, 2, 1) if steps % c == 0)


def chunked_trainer(
    model: nn.Module, batches: Sequence[tuple[torch.Tensor, torch.Tensor]], lr: float
) -> Chunked[None]:
    """`trainer`, read by the clock in equal chunks of steps: many values per repeat. Each
    DDP step all-reduces, so the ranks stay in step and every rank's chunk is the same."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    chunks = chunks_for(len(batches))
    size = len(batches) // chunks
    position = [0]

    def run_chunk() -> None:
        start = position[0]
        for inputs, targets in batches[start : start + size]:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
        position[0] = start + size

    return Chunked(chunks, run_chunk)


def parameters_of(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in inner(model).parameters()]


def largest_difference(model: nn.Module, reference: Sequence[torch.Tensor]) -> float:
    """max |p - r| over every parameter, as a Python float (read back off the clock)."""
    return max(
        float((p.detach() - r).abs().max())
        for p, r in zip(inner(model).parameters(), reference, strict=True)
    )


def allreduce_runner(
    sizes: Sequence[int], group: dist.ProcessGroup, where: torch.device, rounds: int
) -> Callable[[], None]:
    """The timed body of a measured all-reduce: `rounds` times, every bucket of `sizes` bytes
    (float32) all-reduced one after the other, as DDP does once per step."""
    buffers = [torch.zeros(size // 4, device=where) for size in sizes]

    def communicate() -> None:
        for _ in range(rounds):
            for buffer in buffers:
                dist.all_reduce(buffer, group=group)

    return communicate


def gradient_bytes(model: nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in inner(model).parameters())
