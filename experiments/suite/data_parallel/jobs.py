"""One launch's work on one rank: the untimed equality check, then every timed configuration.

Every rank runs the same sequence. A configuration of k processes is run by
ranks 0…k-1 in their own process group, while the other ranks wait at a
barrier of the whole world (a blocked wait, no CPU: measured 6 ms of CPU in
2 s). The barrier ends every preparation, so the ranks of a configuration
start their clocks together; configurations take turns repeat by repeat
(`harness.run_cases`), so a drift of the machine falls on all of them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from experiments.core.devices import CpuDevice, Device
from experiments.core.harness import (
    Case,
    CaseRepeats,
    Chunked,
    Hooks,
    Progress,
    RunContext,
    run_cases,
)
from experiments.suite.data_parallel import hooks, plan, training
from experiments.suite.data_parallel.plan import Setup
from experiments.suite.data_parallel.training import Samples
from experiments.workloads.catalog import MlpSpec


@dataclass(frozen=True)
class Workload:
    name: str
    spec: MlpSpec
    batch: int
    steps: int


@dataclass
class Group:
    """One kind of device measured in this launch, as this rank sees it."""

    record: dict[str, Any]  # device, device_name, simulated: who measured
    kind: str
    counts: tuple[int, ...]  # process counts (ddp)
    dp_counts: tuple[int, ...]  # GPU counts (nn.DataParallel)
    subgroups: dict[int, dist.ProcessGroup]  # k -> ranks 0…k-1 (k >= 2; members only)
    device: Device  # this rank's, for the clock's synchronisation
    where: torch.device  # this rank's tensors


@dataclass
class Checked:
    """The equality check's findings for one workload on one group."""

    differences: dict[tuple[str, int], tuple[float, float | None]] = field(default_factory=dict)
    buckets: dict[int, list[int]] = field(default_factory=dict)  # k -> bucket bytes
    gradient_bytes: int = 0


def largest_batch(group: Group, workload: Workload) -> int:
    return max(s.global_batch(workload.batch) for s in plan.setups(group.counts, group.dp_counts))


def check(
    group: Group, workload: Workload, samples: Samples, config: dict[str, Any], rank: int
) -> Checked:
    """DDP (and DataParallel) after `check_steps` steps against one process trained on the
    same global batches: the largest parameter difference, and between DDP's replicas.
    Every rank learns the bucket sizes, so every rank builds the same timed jobs."""
    steps, seed, lr = config["check_steps"], config["seed"], config["lr"]
    model = training.fresh_model(workload.spec, seed, group.where)
    found = Checked(gradient_bytes=training.gradient_bytes(model))
    references: dict[int, list[torch.Tensor]] = {}

    def reference(global_batch: int) -> list[torch.Tensor]:
        if global_batch not in references:
            model = training.fresh_model(workload.spec, seed, group.where)
            whole = samples.batches(Setup("single", "strong", 1), global_batch, 0, steps)
            training.trainer(model, whole, lr)()
            references[global_batch] = training.parameters_of(model)
        return references[global_batch]

    for k in (k for k in group.counts if k >= 2):
        setup = plan.checked_setup(k, workload.batch)
        sizes: list[list[int]] = [[]]
        if rank < k:
            expected = reference(setup.global_batch(workload.batch))
            model = training.fresh_model(workload.spec, seed, group.where)
            ddp = training.ddp(model, group.kind, group.where, group.subgroups[k])
            log = hooks.BucketLog(group.subgroups[k])
            ddp.register_comm_hook(log, hooks.counting_allreduce)
            mine = samples.batches(setup, workload.batch, rank, steps)
            training.trainer(ddp, mine, lr)()
            difference = training.largest_difference(ddp, expected)
            replica = training.parameters_of(ddp)
            for tensor in replica:  # rank 0's parameters, to every rank
                dist.broadcast(tensor, src=0, group=group.subgroups[k])
            spread = training.largest_difference(ddp, replica)
            both = torch.tensor([difference, spread], device=group.where)
            dist.all_reduce(both, op=dist.ReduceOp.MAX, group=group.subgroups[k])
            found.differences["ddp", k] = (float(both[0]), float(both[1]))
            sizes = [list(log.sizes)]
        dist.broadcast_object_list(sizes, src=0)  # rank 0's count, to the idle ranks too
        found.buckets[k] = sizes[0]
    for k in group.dp_counts:
        if rank == 0:
            expected = reference(workload.batch)
            setup = Setup("data_parallel", "strong", k)
            model = training.fresh_model(workload.spec, seed, group.where)
            wrapped = training.wrap(model, setup, group.kind, group.where, None)
            training.trainer(wrapped, samples.batches(setup, workload.batch, 0, steps), lr)()
            found.differences["data_parallel", k] = (
                training.largest_difference(wrapped, expected),
                None,
            )
        dist.barrier()
    return found


@dataclass(frozen=True)
class Job:
    """One timed configuration: `ranks` processes run `prepare()`'s body, which does `per`
    steps (or all-reduces); its time divided by `per` is what one of them costs."""

    label: str
    ranks: int
    per: int
    prepare: Callable[[], Callable[[], None] | Chunked[None]]
    key: tuple[Any, ...]


def _noop() -> None:
    return None


def jobs(
    group: Group,
    workload: Workload,
    samples: Samples,
    checked: Checked,
    config: dict[str, Any],
    rank: int,
) -> list[Job]:
    """The timed configurations of one workload on one group, the same list on every rank."""
    found = []
    name = f"{group.record['device']}, {workload.name}"
    for setup in plan.setups(group.counts, group.dp_counts):
        key = ("train", workload.name, setup.method, setup.scaling, setup.processes)
        label = f"{name}, {setup.method} {setup.scaling} ×{setup.processes}"
        if not setup.divides(workload.batch):
            continue  # unequal shares would not be the same step: not timed

        def train(setup: Setup = setup) -> Chunked[None]:
            model = training.fresh_model(workload.spec, config["seed"], group.where)
            subgroup = group.subgroups.get(setup.processes) if setup.method == "ddp" else None
            wrapped = training.wrap(model, setup, group.kind, group.where, subgroup)
            mine = samples.batches(setup, workload.batch, rank, workload.steps)
            return training.chunked_trainer(wrapped, mine, config["lr"])

        found.append(Job(label, setup.ranks, workload.steps, train, key))
    for k, sizes in checked.buckets.items():

        def communicate(k: int = k, sizes: list[int] = sizes) -> Callable[[], None]:
            return training.allreduce_runner(sizes, group.subgroups[k], group.where, workload.steps)

        label = f"{name}, all-reduce ×{k}"
        found.append(Job(label, k, workload.steps, communicate, ("allreduce", workload.name, k)))
    return found


def sweep_jobs(group: Group, config: dict[str, Any]) -> list[Job]:
    """All-reduces of growing size at every count of two or more: latency and bandwidth."""
    rounds = config["allreduce_rounds"]
    found = []
    for k in (k for k in group.counts if k >= 2):
        for size in config["allreduce_sizes"]:

            def communicate(k: int = k, size: int = size) -> Callable[[], None]:
                return training.allreduce_runner([size], group.subgroups[k], group.where, rounds)

            label = f"{group.record['device']}, all-reduce {size} B ×{k}"
            found.append(Job(label, k, rounds, communicate, ("sweep", size, k)))
    return found


def time_jobs(
    found: list[tuple[Group, Job]], config: dict[str, Any], rank: int, progress: Progress
) -> list[CaseRepeats[Job, None]]:
    """Warm-ups then repeats of every job, interleaved; each preparation ends at a
    barrier of the whole world, so the job's ranks start their clocks together."""
    idle = CpuDevice()
    cases = [
        Case(group.device if rank < job.ranks else idle, job, job.label) for group, job in found
    ]

    def prepare(case: Case[Job]) -> Callable[[], None] | Chunked[None]:
        body = case.variant.prepare() if rank < case.variant.ranks else _noop
        dist.barrier()
        return body

    # no drift checkpoints in the workers: the coordinator's process takes them around the
    # launch; the planted slowdown (1 but in the diff's own check) comes with the settings
    ctx = RunContext(progress, physical_cores=1, hooks=Hooks(slowdown=config["slowdown"]))
    return run_cases(
        cases,
        prepare,
        warmup=config["warmup"],
        repeats=config["repeats"],
        ctx=ctx,
        what="data_parallel",
    )
