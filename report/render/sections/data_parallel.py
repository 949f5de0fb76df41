"""View of the data_parallel result: speed-up, efficiency and the all-reduce's share per
configuration, the equality check, where two processes start to win, and the machines.

Derived figures are computed here from the stored medians: samples per second
(global batch ÷ time per step), speed-up (samples per second ÷ one process's),
parallel efficiency (speed-up ÷ processes), the all-reduce's share (its time ÷
the step's) and its effective bandwidth (gradient bytes ÷ its time).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from experiments.contract.declaration import N_
from report.render import plots
from report.render.load import RunResults
from report.render.sections import Headline, Section, device_label, section, unfinished
from report.words import vocabulary
from report.words.formatting import byte_size, percent, ratio
from report.words.i18n import _

WORKLOADS = {
    "mnist_mlp": N_("the notes' MNIST MLP 784-128-10 (note 003)"),
    "wide_mlp": N_("the wide MLP 1024-2048-2048-10 of the mixed-precision section"),
}

METHODS = {
    "single": N_("one process"),
    "ddp": N_("DDP"),
    "independent": N_("no communication"),
    "data_parallel": N_("DataParallel"),
}

SCALINGS = {
    "baseline": N_("baseline"),
    "strong": N_("strong"),
    "weak": N_("weak"),
}

# Why a device, a configuration or the experiment was not measured.
REASONS = {
    "no_distributed": N_("this torch build has no torch.distributed"),
    "no_distributed_backend": N_("no process-group backend drives this kind of device"),
    "batch_not_divisible": N_("the batch does not split evenly between the processes"),
    "no_device_at_rank_0": N_("the machine of the first process has no such device"),
}


def reason(record: dict[str, Any] | str | None) -> str:
    """This experiment's reasons in words; the shared vocabulary for any other."""
    code = record if isinstance(record, str) else (record or {}).get("code")
    return vocabulary.lookup(REASONS, code) if code in REASONS else vocabulary.reason(record)


def _row(run: dict[str, Any], workload: dict[str, Any], base: float | None) -> dict[str, Any]:
    median = run["summary"]["median"]
    rate = run["global_batch"] / median if median else None
    shared = run["allreduce"]["summary"]["median"] if run["allreduce"] else None
    speedup = rate / base if rate and base else None
    difference = run["max_parameter_difference"]
    return {
        **run,
        "method_words": vocabulary.lookup(METHODS, run["method"]),
        "scaling_words": vocabulary.lookup(SCALINGS, run["scaling"]),
        "reason": reason(run["unsupported"]) if run["unsupported"] else None,
        "samples_per_s": rate,
        "speedup": speedup,
        "efficiency": speedup / run["processes"] if speedup else None,
        "allreduce_s": shared,
        "share": shared / median if shared and median else None,
        "bandwidth": workload["gradient_bytes"] / shared if shared else None,
        "difference": difference,
    }


# Processes at once that take this much longer than one alone slow each other down noticeably.
NOTICEABLE_CONTENTION = 1.10


def _crossover(workload: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Where k processes start to win (k the first count): splitting the batch saves the part
    of a one-process step that the k processes do not spend (they slow each other down by
    `contention`, measured without any communication), and adds one all-reduce. They win when
    the saving exceeds the all-reduce: one-process step > all-reduce ÷ (1 - contention ÷ k)."""
    one = next(r for r in rows if r["method"] == "single")["summary"]["median"]
    ddp = [r for r in rows if r["method"] == "ddp" and r["scaling"] == "strong"]
    two = next((r for r in ddp if r["allreduce_s"] and r["summary"]["median"]), None)
    if not one or two is None:
        return None
    k = two["processes"]
    alone = next((r for r in rows if r["method"] == "independent" and r["processes"] == k), None)
    weak = next((r for r in rows if r["method"] == "ddp" and r["scaling"] == "weak"), None)
    alone_s = alone["summary"]["median"] if alone else None
    contention = alone_s / one if alone_s else 1.0
    saved = one * (1 - contention / k)
    needed = two["allreduce_s"] / (1 - contention / k) if contention < k else None
    flops = workload["matmul_flops_per_sample"] * workload["batch"]
    if two["speedup"] and two["speedup"] > 1:
        case = "wins"
    elif needed is None:
        case = "no_gain"  # k processes at once are each k times slower or worse
    elif one <= needed:
        case = "fixed_cost"  # the saving is smaller than the all-reduce
    else:
        case = "slower_than_predicted"  # it is not, yet the processes lose
    return {
        "one_step_s": one,
        "processes": k,
        "allreduce_s": two["allreduce_s"],
        "contention": contention,
        "contended": contention > NOTICEABLE_CONTENTION,
        "independent_s": alone_s,
        "saved_s": max(0.0, saved),
        "predicted_s": contention * one / k + two["allreduce_s"],
        "measured_s": two["summary"]["median"],
        "weak_s": weak["summary"]["median"] if weak and weak["summary"]["median"] else None,
        "case": case,
        "flops_per_step": flops,
        "needed_step_s": needed,
        "needed_flops": flops * needed / one if needed else None,
        "needed_batch": math.ceil(workload["batch"] * needed / one) if needed else None,
    }


def _scaling_plot(rows: list[dict[str, Any]]) -> str:
    """Speed-up against processes: the ideal line, DDP in both scalings and the processes
    without communication, from the one-process baseline (speed-up 1) on. (DataParallel is
    compared with DDP in words: four lines are as many as the plot styles tell apart.)"""
    counts = sorted({r["processes"] for r in rows})
    series = [plots.Series(_("ideal: speed-up = processes"), counts, counts)]
    for method, scaling in (("ddp", "strong"), ("ddp", "weak"), ("independent", "weak")):
        points = [
            r for r in rows if r["method"] == method and r["scaling"] == scaling and r["speedup"]
        ]
        if points:
            label = _("{method}, {scaling}").format(
                method=vocabulary.lookup(METHODS, method),
                scaling=vocabulary.lookup(SCALINGS, scaling),
            )
            series.append(
                plots.Series(
                    label,
                    [1, *(p["processes"] for p in points)],
                    [1.0, *(p["speedup"] for p in points)],
                )
            )
    return plots.lines(series, _("processes (log scale)"), _("speed-up over one process (×)"))


def _sweep(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The fixed cost of an all-reduce (the fastest median of the first sweep, whatever its
    size: no exchange is cheaper) and its bandwidth (the largest one's bytes per second)."""
    if not entry["allreduce_sweep"]:
        return None
    sweep = entry["allreduce_sweep"][0]
    points = [p for p in sweep["sizes"] if p["time_s"]]
    medians = [sorted(p["time_s"])[len(p["time_s"]) // 2] for p in points]
    plot = plots.step_time_sweep(
        [
            plots.Series(
                _("{processes} processes").format(processes=sweep["processes"]),
                [p["bytes"] / 1024 for p in points],
                medians,
                [min(p["time_s"]) for p in points],
                [max(p["time_s"]) for p in points],
            )
        ],
        _("bytes all-reduced (KiB, log scale)"),
        _("time of one all-reduce"),
    )
    fastest = min(range(len(points)), key=lambda i: medians[i])
    return {
        "processes": sweep["processes"],
        "nodes": sweep["nodes"],
        "latency_s": medians[fastest],
        "fastest": points[fastest]["bytes"],
        "largest": points[-1]["bytes"],
        "bandwidth": points[-1]["bytes"] / medians[-1],
        "plot": plot,
    }


def _workload_rows(workload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every run of a workload with its speed-up over one process and its efficiency."""
    base_run = next(r for r in workload["runs"] if r["method"] == "single")
    base_median = base_run["summary"]["median"]
    base = base_run["global_batch"] / base_median if base_median else None
    return [_row(run, workload, base) for run in workload["runs"]]


def _device(entry: dict[str, Any], tolerance: float) -> dict[str, Any]:
    workloads = []
    for workload in entry["workloads"]:
        rows = _workload_rows(workload)
        checked = [r["difference"] for r in rows if r["difference"] is not None]
        workloads.append(
            {
                **workload,
                "words": vocabulary.lookup(WORKLOADS, workload["workload"]),
                "rows": rows,
                "largest_difference": max(checked) if checked else None,
                "equal": bool(checked) and max(checked) <= tolerance,
                "crossover": _crossover(workload, rows),
                "plot": _scaling_plot(rows) if len(rows) > 1 and rows[0]["speedup"] else None,
            }
        )
    return {
        **entry,
        "label": device_label(entry),
        "reason": reason(entry["unsupported"]) if entry["unsupported"] else None,
        "workloads": workloads,
        "sweep": _sweep(entry),
    }


# Link speeds assumed for the GPU expectation (not measured here): PCIe 4.0 x16 as NCCL
# reaches it in practice, and NVLink between data-centre GPUs (bytes per second).
ASSUMED_LINKS = {"pcie": 16e9, "nvlink": 200e9}


def _expectations(device: dict[str, Any]) -> list[dict[str, Any]]:
    """How long each workload's all-reduce would take over GPU links, at ASSUMED_LINKS."""
    return [
        {
            "workload": w["workload"],
            "bytes": w["gradient_bytes"],
            **{f"{link}_s": w["gradient_bytes"] / speed for link, speed in ASSUMED_LINKS.items()},
        }
        for w in device["workloads"]
    ]


def _comparisons(device: dict[str, Any]) -> list[dict[str, Any]]:
    """DataParallel against DDP at the same GPU count, strong scaling (measured GPUs only)."""
    found = []
    for workload in device["workloads"]:
        strong = {
            (r["method"], r["processes"]): r
            for r in workload["rows"]
            if r["scaling"] == "strong" and r["speedup"]
        }
        for (method, gpus), row in sorted(strong.items()):
            ddp = strong.get(("ddp", gpus))
            if method == "data_parallel" and ddp is not None:
                found.append(
                    {
                        "label": device["label"],
                        "workload": workload["workload"],
                        "gpus": gpus,
                        "data_parallel": row["speedup"],
                        "ddp": ddp["speedup"],
                    }
                )
    return found


def _node(node: dict[str, Any]) -> dict[str, Any]:
    environment = node["environment"]
    cpu = environment.get("cpu", {})
    return {
        **node,
        "cpu": cpu.get("model"),
        "cores": cpu.get("physical_cores"),
        "memory": environment.get("memory", {}).get("total_bytes"),
        "gpus": [g["name"] for g in environment.get("gpus", [])],
        "torch": environment.get("torch", {}).get("version"),
    }


def _findings(devices: list[dict[str, Any]], tolerance: float) -> list[str]:
    findings = []
    for device in (d for d in devices if not d["simulated"] and not d["reason"]):
        for workload in device["workloads"]:
            strong = [r for r in workload["rows"] if r["method"] == "ddp" and r["speedup"]]
            strong = [r for r in strong if r["scaling"] == "strong"]
            if not strong:
                continue
            run = max(strong, key=lambda r: r["processes"])
            alone = next(
                (
                    r
                    for r in workload["rows"]
                    if r["method"] == "independent" and r["processes"] == run["processes"]
                ),
                None,
            )
            findings.append(
                _(
                    "On {device}, {processes} processes trained {workload} at {speed} of one "
                    "process's speed (strong scaling, efficiency {efficiency}); all-reducing "
                    "its {bytes} of gradients took {share} of a step, and the same processes "
                    "without any communication reached {alone}."
                ).format(
                    device=device["label"],
                    processes=run["processes"],
                    workload=workload["workload"],
                    speed=ratio(run["speedup"]),
                    efficiency=percent(run["efficiency"]),
                    bytes=byte_size(workload["gradient_bytes"]),
                    share=percent(run["share"]),
                    alone=ratio(alone["speedup"] if alone else None),
                )
            )
        checked = [w["largest_difference"] for w in device["workloads"]]
        checked = [c for c in checked if c is not None]
        if checked:
            findings.append(
                _(
                    "On {device}, DistributedDataParallel trained the same model as one process "
                    "on the whole batch: parameters within {difference} (tolerance {tolerance})."
                ).format(
                    device=device["label"],
                    difference=f"{max(checked):.1e}",
                    tolerance=f"{tolerance:.0e}",
                )
            )
    return findings


def build(document: dict[str, Any], run: RunResults) -> Section:
    if (shown := unfinished(document)) is not None:
        skipped = document["status"] == "skipped"
        return dataclasses.replace(shown, reason=reason(document["reason"])) if skipped else shown
    data = document["data"]
    tolerance = data["tolerance"]
    devices = [_device(entry, tolerance) for entry in data["per_device"]]
    real = [d for d in devices if not d["simulated"] and not d["reason"]]
    context = {
        "config": document["config"],
        "conditions": document["conditions"],
        "launch": data["launch"],
        "tolerance": tolerance,
        "check_steps": data["check_steps"],
        "nodes": [_node(n) for n in data["nodes"]],
        "devices": devices,
        "cuda_measured": any(d["kind"] == "cuda" for d in real),
        "expectations": _expectations(real[0] if real else devices[0]),
        "comparisons": [c for d in real for c in _comparisons(d)],
    }
    return section(document, context, _findings(devices, tolerance))


def headlines(document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """Parallel efficiency of DDP on the notes' MNIST model, strong scaling, at the most
    processes this machine ran (speed-up ÷ processes; 100 % = no loss), on a measured device
    (a stand-in's timings are CPU timings and are not shown)."""
    for entry in document["data"]["per_device"]:
        if entry["simulated"] or entry["unsupported"] or not entry["workloads"]:
            continue
        rows = [
            r
            for r in _workload_rows(entry["workloads"][0])
            if r["method"] == "ddp" and r["scaling"] == "strong" and r["efficiency"]
        ]
        if not rows:
            return []
        widest = max(rows, key=lambda r: r["processes"])
        return [
            Headline(
                "efficiency",
                _("DDP efficiency, strong scaling"),
                "percent",
                "higher",
                widest["efficiency"],
                note=_("{processes} processes").format(processes=widest["processes"]),
            )
        ]
    return []
