"""Measuring data parallelism (note 004): settings out, torchrun launched, the result read back.

This process is the coordinator's launcher, not a rank: it writes the
settings, starts torchrun (`launch.run`: bounded, its process tree killed on
every path) and reads the one result file the coordinator's first rank
writes. The ranks do the measuring (`worker`, `jobs`). A failed launch raises,
so the runner records the experiment as failed with the reason and keeps the
other experiments' results.
"""

from __future__ import annotations

import concurrent.futures
import json
import platform
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch.distributed as dist

from experiments.contract.atomic import write_atomic
from experiments.core import probe
from experiments.core.devices import Device
from experiments.core.harness import RunContext, Skipped, device_record
from experiments.suite.data_parallel import Config, launch, plan, results
from experiments.workloads.catalog import MODELS


def declared_groups(devices: Sequence[Device]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One group per kind of device (all CUDA GPUs together, named by the first), and the
    entries of kinds no process-group backend serves (MPS), which are recorded unmeasured."""
    groups: list[dict[str, Any]] = []
    unsupported: list[dict[str, Any]] = []
    seen: set[str] = set()
    for device in devices:
        if device.kind in seen:
            continue
        seen.add(device.kind)
        record = {**device_record(device), "kind": device.kind}
        if plan.backend(device.kind) is not None:
            groups.append(record)
            continue
        unsupported.append(results.unmeasured(record, "no_distributed_backend"))
    return groups, unsupported


def settings(config: Config, groups: list[dict[str, Any]], slowdown: float = 1.0) -> dict[str, Any]:
    """What every rank needs to know, as plain JSON (the workers read it after the launch),
    with the run's planted slowdown (harness.Hooks: 1 but in the diff's own check)."""
    return {
        "slowdown": slowdown,
        "seed": config.seed,
        "lr": config.lr,
        "warmup": config.warmup,
        "repeats": config.repeats,
        "threads": config.threads,
        "max_processes": config.max_processes,
        "check_steps": config.check_steps,
        "allreduce_sizes": list(config.allreduce_sizes),
        "allreduce_rounds": config.allreduce_rounds,
        "simulated_gpus": config.simulated_gpus,
        "collective_timeout_s": config.collective_timeout_s,
        "groups": groups,
        "workloads": [
            {
                "workload": name,
                "widths": list(MODELS[name].widths),
                "sample_shape": list(MODELS[name].sample_shape),
                "batch": batch,
                "steps": steps,
            }
            for name, batch, steps in zip(
                config.workloads, config.batches, config.steps, strict=True
            )
        ],
    }


def nodes(found: dict[str, Any], coordinator: dict[str, Any]) -> list[dict[str, Any]]:
    """Every machine of the run, its ranks and its facts (the coordinator's probed here, the
    others' sent by their first rank)."""
    by_node: dict[int, dict[str, Any]] = {}
    for fact in found["facts"]:
        node = by_node.setdefault(
            fact["node"],
            {"node": fact["node"], "ranks": [], "coordinator": False, "environment": None},
        )
        node["ranks"].append(fact["rank"])
        node["coordinator"] = node["coordinator"] or fact["coordinator"]
        if fact["environment"] is not None:
            node["environment"] = fact["environment"]
    for node in by_node.values():
        if node["coordinator"]:
            node["environment"] = coordinator
    return [by_node[n] for n in sorted(by_node)]


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    if not dist.is_available():
        raise Skipped("no_distributed")
    groups, unsupported = declared_groups(devices)
    capacities = {
        g["kind"]: plan.node_capacity(
            g["kind"],
            physical_cores=ctx.physical_cores,
            cuda_devices=sum(1 for d in devices if d.kind == "cuda"),
            threads=config.threads,
            simulated_gpus=config.simulated_gpus,
        )
        for g in groups
    }
    nproc = plan.nproc_per_node(capacities, config.nproc_per_node, config.max_processes)
    endpoint = config.rdzv_endpoint or f"127.0.0.1:{launch.free_port()}"
    host, port = plan.parse_endpoint(endpoint)
    address = launch.local_address(host, port)
    system = platform.system()
    timeouts = {
        "join": config.join_timeout_s,
        "collective": config.collective_timeout_s,
        "launch": config.launch_timeout_s,
        "shutdown": config.shutdown_timeout_s,
    }
    with (
        tempfile.TemporaryDirectory(prefix="data-parallel-") as scratch,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
    ):
        folder = Path(scratch)
        write_atomic(
            folder / "settings.json", json.dumps(settings(config, groups, ctx.hooks.slowdown))
        )
        command = plan.launcher_command(
            sys.executable,
            nnodes=config.nnodes,
            nproc=nproc,
            endpoint=endpoint,
            rdzv_id=config.rdzv_id,
            join_timeout_s=config.join_timeout_s,
            shutdown_timeout_s=config.shutdown_timeout_s,
            is_host=True,
            local_addr=address,
            system=system,
            log_dir=folder / "torchrun",
            worker=launch.WORKER,
            worker_args=[
                "--spec",
                str(folder / "settings.json"),
                "--out",
                str(folder / "result.json"),
                "--collective-timeout-s",
                str(config.collective_timeout_s),
            ],
        )
        # This machine's facts, probed while torchrun starts (its import of torch takes
        # longer than the probe), so before the first timed run.
        coordinator = pool.submit(probe.probe)
        ctx.progress.update(f"data_parallel | torchrun: {config.nnodes} node(s), {nproc} here")
        outcome = launch.run(
            command,
            launch.environment(config.threads, address),
            timeout_s=config.launch_timeout_s,
            grace_s=config.shutdown_timeout_s + 2,
            progress=ctx.progress.update,
        )
        result = folder / "result.json"
        if not result.exists():
            raise launch.LaunchFailed("no_result: torchrun succeeded but nobody wrote the result")
        found = json.loads(result.read_text(encoding="utf-8"))
        machine = coordinator.result()
    return {
        "launch": {
            "launcher": "torchrun",
            "rdzv_backend": plan.RENDEZVOUS_BACKEND,
            "start_method": plan.start_method(system),
            "nnodes": found["nnodes"],
            "nproc_per_node": nproc,
            "world_size": found["world_size"],
            "loopback": plan.is_loopback(host),
            "timeouts_s": timeouts,
            "startup_s": outcome.startup_s,
            "wall_s": outcome.wall_s,
        },
        "nodes": nodes(found, machine),
        "tolerance": config.tolerance,
        "check_steps": config.check_steps,
        "per_device": [*found["per_device"], *unsupported],
    }
