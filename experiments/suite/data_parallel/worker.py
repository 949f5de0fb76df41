"""One rank of the data-parallel experiment: the script torchrun starts in every process.

The coordinator's launcher passes `--spec` (the settings) and `--out` (where the
result goes); a node that joins from another machine passes neither. After the
rendezvous every rank shares what it has (settings, node facts) with all the
others, so it does not matter which rank the rendezvous numbered 0; each node
sends nothing but its measurements and machine facts, over the process group,
and only the coordinator writes. Progress lines and a failure go to stdout,
where the launcher reads them (`PREFIX`, `ERROR_PREFIX`).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import torch
import torch.distributed as dist

from experiments.contract.atomic import write_atomic
from experiments.core import probe
from experiments.core.devices import CpuDevice, CudaDevice, Device, SimulatedDevice
from experiments.core.harness import Progress, error_reason, set_threads
from experiments.suite.data_parallel import jobs, plan, results, torchrun_windows
from experiments.suite.data_parallel.plan import ERROR_PREFIX, PREFIX
from experiments.suite.data_parallel.training import Samples
from experiments.workloads.catalog import MlpSpec


@dataclass(frozen=True)
class Me:
    """This process's place, as torchrun's environment variables give it."""

    rank: int
    local_rank: int
    node: int
    world_size: int

    @classmethod
    def from_environment(cls) -> Me:
        return cls(
            int(os.environ["RANK"]),
            int(os.environ["LOCAL_RANK"]),
            int(os.environ["GROUP_RANK"]),
            int(os.environ["WORLD_SIZE"]),
        )


def facts_of(me: Me, coordinator: bool, reporter: bool) -> dict[str, Any]:
    """What the others need to know about this rank's machine before they can plan."""
    return {
        "rank": me.rank,
        "local_rank": me.local_rank,
        "node": me.node,
        "coordinator": coordinator,
        "reporter": reporter,
        "physical_cores": psutil.cpu_count(logical=False) or 1,
        "cuda_devices": torch.cuda.device_count() if torch.cuda.is_available() else 0,
    }


def exchange(
    config: dict[str, Any] | None, facts: dict[str, Any], world_size: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Everyone's settings and facts, in rank order; the settings come from the coordinator."""
    gathered: list[Any] = [None] * world_size
    dist.all_gather_object(gathered, (config, facts))
    given = [c for c, _ in gathered if c is not None]
    if not given:
        raise RuntimeError("no_settings: no coordinator joined this rendezvous")
    if any(c != given[0] for c in given):
        raise RuntimeError("different_settings: two coordinators joined this rendezvous")
    return given[0], [f for _, f in gathered]


def _device(kind: str, label: str, local_rank: int) -> tuple[Device, torch.device]:
    if kind == "cuda":
        torch.cuda.set_device(local_rank)
        return CudaDevice(local_rank), torch.device("cuda", local_rank)
    if kind == "simulated":
        return SimulatedDevice(label), torch.device("cpu")
    return CpuDevice(label), torch.device("cpu")


def groups_of(config: dict[str, Any], facts: Sequence[dict[str, Any]], me: Me) -> list[jobs.Group]:
    """Each kind of device with its process counts and process groups (every rank creates
    every group, as torch.distributed requires; members keep theirs)."""
    found = []
    timeout = dt.timedelta(seconds=config["collective_timeout_s"])
    for declared in config["groups"]:
        kind = declared["kind"]
        capacities = [
            (
                f["local_rank"],
                plan.node_capacity(
                    kind,
                    physical_cores=f["physical_cores"],
                    cuda_devices=f["cuda_devices"],
                    threads=config["threads"],
                    simulated_gpus=config["simulated_gpus"],
                ),
            )
            for f in facts
        ]
        limit = plan.group_limit(capacities, config["max_processes"])
        member = me.rank < limit
        device, where = (
            _device(kind, declared["device_name"], me.local_rank)
            if member
            else (CpuDevice(), torch.device("cpu"))
        )
        counts = plan.process_counts(limit)
        subgroups = {}
        for k in (k for k in counts if k >= 2):
            subgroup = dist.new_group(list(range(k)), timeout=timeout, backend=plan.backend(kind))
            if me.rank < k and subgroup is not None:
                subgroups[k] = subgroup
        record = {key: declared[key] for key in ("device", "device_name", "simulated")}
        dp_counts = plan.data_parallel_counts(kind, counts)
        found.append(jobs.Group(record, kind, counts, dp_counts, subgroups, device, where))
    return found


def measure(
    config: dict[str, Any],
    facts: Sequence[dict[str, Any]],
    me: Me,
    machine: concurrent.futures.Future[dict[str, Any]] | None,
) -> dict[str, Any]:
    """This rank's findings: per group its counts, equality checks and timings, and the facts
    of its machine where it probed them (`machine`: done before the first timed run)."""
    progress = Progress(stream=sys.stdout, enabled=bool(facts[me.rank]["reporter"]))
    groups = groups_of(config, facts, me)
    workloads = [
        jobs.Workload(
            w["workload"],
            MlpSpec(tuple(w["widths"]), tuple(w["sample_shape"])),
            w["batch"],
            w["steps"],
        )
        for w in config["workloads"]
    ]
    found: list[tuple[int, jobs.Job]] = []
    checks: list[dict[str, Any]] = []
    for index, group in enumerate(groups):
        checks.append({})
        if not group.counts:
            continue  # rank 0 has no such device (a machine without it): nothing to run
        for workload in workloads:
            largest = jobs.largest_batch(group, workload)
            samples = Samples.make(workload.spec, largest, config["seed"], group.where)
            progress.update(f"{PREFIX} | {group.record['device']}, {workload.name} | check")
            checked = jobs.check(group, workload, samples, config, me.rank)
            checks[index][workload.name] = {
                "differences": {f"{m}/{k}": list(v) for (m, k), v in checked.differences.items()},
                "buckets": {str(k): v for k, v in checked.buckets.items()},
                "gradient_bytes": checked.gradient_bytes,
            }
            new = jobs.jobs(group, workload, samples, checked, config, me.rank)
            found += [(index, job) for job in new]
        found += [(index, job) for job in jobs.sweep_jobs(group, config)]
    environment = machine.result() if machine is not None else None
    timed = jobs.time_jobs([(groups[i], job) for i, job in found], config, me.rank, progress)
    timings: list[results.Timings] = [{} for _ in groups]
    for (index, job), result in zip(found, timed, strict=True):
        chunks = len(result.chunk_s[0]) if result.chunk_s else 1
        timings[index][job.key] = {
            "warmup_s": [t / job.per for t in result.warmup_s],
            "step_s": [t / job.per for t in result.times_s],
            # each chunk's time per step (a repeat read in equal chunks of steps)
            "chunk_step_s": [t / (job.per / chunks) for t in result.chunks_s]
            or [t / job.per for t in result.times_s],
        }
    return {
        "environment": environment,
        "groups": [
            {"counts": g.counts, "dp_counts": g.dp_counts, "checks": c, "timings": t}
            for g, c, t in zip(groups, checks, timings, strict=True)
        ],
    }


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=Path, help="the settings (coordinator only)")
    parser.add_argument("--out", type=Path, help="where the result goes (coordinator only)")
    parser.add_argument("--collective-timeout-s", type=int, required=True)
    args = parser.parse_args(argv)
    me = Me.from_environment()
    if sys.platform == "win32":
        torchrun_windows.honour_use_libuv()  # the agent store's client, see that module
    try:
        dist.init_process_group("gloo", timeout=dt.timedelta(seconds=args.collective_timeout_s))
        given = json.loads(args.spec.read_text(encoding="utf-8")) if args.spec else None
        reporter = args.out is not None and me.local_rank == 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            # A joining machine's first rank probes it while the untimed check runs; the
            # coordinator's launcher probes the coordinator.
            probing = me.local_rank == 0 and given is None
            machine = pool.submit(probe.probe) if probing else None
            facts = facts_of(me, coordinator=given is not None, reporter=reporter)
            config, everyone_facts = exchange(given, facts, me.world_size)
            set_threads(config["threads"])
            mine = measure(config, everyone_facts, me, machine)
        everyone: list[Any] = [None] * me.world_size
        dist.all_gather_object(everyone, mine)
        if reporter:
            for fact, theirs in zip(everyone_facts, everyone, strict=True):
                fact["environment"] = theirs["environment"]
            found = {
                "world_size": me.world_size,
                "nnodes": int(os.environ["GROUP_WORLD_SIZE"]),
                "facts": everyone_facts,
                "per_device": results.per_device(config, everyone_facts, everyone),
            }
            write_atomic(args.out, json.dumps(found))
        dist.barrier()  # nobody leaves before the result is written
        dist.destroy_process_group()
    except BaseException as error:
        print(ERROR_PREFIX + json.dumps({"rank": me.rank, "error": error_reason(error)}))
        sys.stdout.flush()
        raise


if __name__ == "__main__":
    main(sys.argv[1:])
