"""Every rank's raw findings, gathered, turned into the result's `per_device` entries (no torch).

A configuration's step takes as long as its slowest rank (each step ends with
the all-reduce every rank waits for), so the stored time of a repeat is the
largest of its ranks' clocks; each rank's own readings are kept beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from experiments.contract.summary import summarize
from experiments.suite.data_parallel import plan
from experiments.workloads.catalog import MlpSpec

Timings = dict[tuple[Any, ...], dict[str, list[float]]]  # job key -> warmup_s, step_s


def _slowest(per_rank: Sequence[Sequence[float]]) -> list[float]:
    return [max(values) for values in zip(*per_rank, strict=True)]


def _timed(everyone: Sequence[Timings], key: tuple[Any, ...], ranks: int) -> dict[str, Any]:
    """warmup_s, step_s (slowest rank) and the summary of one job's readings."""
    warmup = _slowest([everyone[r][key]["warmup_s"] for r in range(ranks)])
    steps = _slowest([everyone[r][key]["step_s"] for r in range(ranks)])
    chunks = _slowest([everyone[r][key].get("chunk_step_s", []) for r in range(ranks)])
    return {
        "warmup_s": warmup,
        "step_s": steps,
        "summary": summarize(steps),
        "chunk_step_s": chunks or steps,
    }


def _nodes(facts: Sequence[dict[str, Any]], ranks: int) -> int:
    return len({facts[r]["node"] for r in range(ranks)})


def _run(
    setup: plan.Setup,
    batch: int,
    group: Sequence[dict[str, Any]],
    timings: Sequence[Timings],
    facts: Sequence[dict[str, Any]],
    workload: str,
) -> dict[str, Any]:
    key = ("train", workload, setup.method, setup.scaling, setup.processes)
    record: dict[str, Any] = {
        "method": setup.method,
        "scaling": setup.scaling,
        "processes": setup.processes,
        "nodes": _nodes(facts, setup.ranks),
        "per_process_batch": setup.per_process_batch(batch),
        "global_batch": setup.global_batch(batch),
        "unsupported": None,
        "warmup_s": [],
        "step_s": [],
        "summary": summarize([]),
        "chunk_step_s": [],
        "rank_step_s": [],
        "allreduce": None,
        "max_parameter_difference": None,
        "replica_difference": None,
    }
    if not setup.divides(batch):
        record["unsupported"] = {"code": "batch_not_divisible"}
        return record
    record.update(_timed(timings, key, setup.ranks))
    record["rank_step_s"] = [timings[r][key]["step_s"] for r in range(setup.ranks)]
    if setup.method == "ddp":
        record["allreduce"] = _timed(timings, ("allreduce", workload, setup.processes), setup.ranks)
    differences = group[0]["checks"][workload]["differences"]
    checked = differences.get(f"{setup.method}/{setup.processes}")
    was_checked = (
        setup == plan.checked_setup(setup.processes, batch)
        if setup.method == "ddp"
        else setup.method == "data_parallel" and setup.scaling == "strong"
    )
    if checked is not None and was_checked:
        record["max_parameter_difference"], record["replica_difference"] = checked
    return record


def per_device(
    config: dict[str, Any], facts: Sequence[dict[str, Any]], everyone: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per measured kind of device. `everyone[r]` is rank r's findings: per group,
    its process counts, its equality checks and its timings (rank 0's checks hold the
    all-ranks maximum, so they are the ones recorded)."""
    entries = []
    for index, declared in enumerate(config["groups"]):
        kind = declared["kind"]
        groups = [rank["groups"][index] for rank in everyone]
        timings: list[Timings] = [g["timings"] for g in groups]
        counts, dp_counts = groups[0]["counts"], groups[0]["dp_counts"]
        record = {key: declared[key] for key in ("device", "device_name", "simulated")}
        if not counts:
            entries.append(unmeasured(record | {"kind": kind}, "no_device_at_rank_0"))
            continue
        workloads = []
        for workload in config["workloads"]:
            name, batch = workload["workload"], workload["batch"]
            checks = groups[0]["checks"][name]
            runs = [
                _run(setup, batch, groups, timings, facts, name)
                for setup in plan.setups(counts, dp_counts)
            ]
            spec = MlpSpec(tuple(workload["widths"]), tuple(workload["sample_shape"]))
            workloads.append(
                {
                    "workload": name,
                    "widths": list(spec.widths),
                    "parameters": spec.parameter_count,
                    "gradient_bytes": checks["gradient_bytes"],
                    "buckets": checks["buckets"].get(str(max(counts)), []),
                    "batch": batch,
                    "steps": workload["steps"],
                    "matmul_flops_per_sample": spec.matmul_flops(1),
                    "runs": runs,
                }
            )
        sweep = [
            {
                "processes": k,
                "nodes": _nodes(facts, k),
                "sizes": [
                    {"bytes": size, **_sweep_point(timings, ("sweep", size, k), k)}
                    for size in config["allreduce_sizes"]
                ],
            }
            for k in counts
            if k >= 2
        ]
        entries.append(
            {
                **record,
                "kind": kind,
                "backend": plan.backend(kind),
                "intended_backend": plan.intended_backend(kind),
                "placement": [
                    plan.placement(kind, facts[r]["local_rank"]) for r in range(max(counts))
                ],
                "unsupported": None,
                "process_counts": list(counts),
                "threads_per_process": config["threads"],
                "workloads": workloads,
                "allreduce_sweep": sweep,
            }
        )
    return entries


def unmeasured(record: dict[str, Any], code: str) -> dict[str, Any]:
    """The entry of a kind of device that was not measured, and why (`code`)."""
    return {
        **record,
        "backend": None,
        "intended_backend": plan.intended_backend(record["kind"]),
        "placement": [],
        "unsupported": {"code": code},
        "process_counts": [],
        "threads_per_process": 0,
        "workloads": [],
        "allreduce_sweep": [],
    }


def _sweep_point(timings: Sequence[Timings], key: tuple[Any, ...], ranks: int) -> dict[str, Any]:
    timed = _timed(timings, key, ranks)
    return {"warmup_s": timed["warmup_s"], "time_s": timed["step_s"]}
