"""View of the cpu_vs_gpu result: tables, plots and the sentences that explain them."""

from __future__ import annotations

from typing import Any

from report import plots, reference
from report.formatting import duration, number, ratio
from report.load import RunResults
from report.sections import Section, device_label, section, unfinished


def _iris_rows(iris: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    epochs = iris["epochs"]
    for entry in iris["per_device"]:
        summary = entry["summary"]
        per_epoch = summary["median"] / epochs
        rows.append(
            {
                "label": device_label(entry),
                "device": entry["device"],
                "simulated": entry["simulated"],
                "summary": summary,
                "per_epoch_s": per_epoch,
                "gflops": iris["flops_per_epoch"] / per_epoch / 1e9,
                "final_loss": entry["final_loss"],
                "test_accuracy": entry["test_accuracy"],
                "curves_identical": entry["curves_identical"],
                "warmup_s": entry["warmup_s"],
                "warmup_excess_s": entry["warmup_s"][0] - summary["median"],
            }
        )
    return rows


def _checkpoints(iris: dict[str, Any]) -> list[dict[str, Any]]:
    """Loss at the epochs note 000 printed, where this run reached them."""
    rows = []
    cpu = iris["per_device"][0]
    every = cpu["curve_every"]
    for epoch, published in reference.IRIS_PRINTED_LOSS.items():
        if epoch > iris["epochs"] or epoch % every:
            continue
        ours = {e["device"]: e["curve"][epoch // every - 1] for e in iris["per_device"]}
        rows.append({"epoch": epoch, "published": published, "ours": ours})
    return rows


def _crossover(crossover: dict[str, Any]) -> dict[str, Any]:
    sizes = [p["size"] for p in crossover["per_device"][0]["points"]]
    table = []
    for index, size in enumerate(sizes):
        cells = []
        for entry in crossover["per_device"]:
            point = entry["points"][index]
            median = point["summary"]["median"]
            cells.append(
                {
                    "median": median,
                    "cv": point["summary"]["cv"],
                    "noisy": point["summary"]["noisy"],
                    "gflops": point["flops_per_step"] / median / 1e9,
                }
            )
        table.append(
            {
                "size": size,
                "flops": crossover["per_device"][0]["points"][index]["flops_per_step"],
                "cells": cells,
            }
        )
    series = [
        plots.Series(
            label=device_label(entry),
            x=[p["size"] for p in entry["points"]],
            y=[p["summary"]["median"] for p in entry["points"]],
            low=[p["summary"]["q1"] for p in entry["points"]],
            high=[p["summary"]["q3"] for p in entry["points"]],
        )
        for entry in crossover["per_device"]
    ]
    return {
        "threads": crossover["threads"],
        "steps": crossover["steps"],
        "devices": [device_label(e) for e in crossover["per_device"]],
        "table": table,
        "accelerators": [
            {"label": device_label(e), "crossover_size": e["crossover_size"]}
            for e in crossover["per_device"][1:]
        ],
        "plot": plots.step_time_sweep(
            series, "batch size = hidden width (log scale)", "time per training step (s, log scale)"
        ),
        "best_cpu_gflops": max(row["cells"][0]["gflops"] for row in table),
        "largest_size": sizes[-1],
    }


def _timing_plot(rows: list[dict[str, Any]], iris: dict[str, Any]) -> str:
    epochs = iris["epochs"]
    entries = [
        plots.TimingRow(
            f"this run: {row['label']}",
            [t / epochs * 1e6 for t in iris["per_device"][i]["times_s"]],
        )
        for i, row in enumerate(rows)
    ]
    entries += [
        plots.TimingRow(
            f"notes {p.source}: {p.hardware.split(' (')[0]}", [p.per_epoch_s * 1e6], published=True
        )
        for p in reference.IRIS_TIMINGS
    ]
    return plots.timing_rows(entries, "time per epoch (µs); dots: repeats, bar: median")


def build(document: dict[str, Any], run: RunResults) -> Section:
    if (shown := unfinished(document)) is not None:
        return shown
    iris = document["data"]["iris"]
    rows = _iris_rows(iris)
    cpu = rows[0]
    accelerators = rows[1:]
    real_gpus = [r for r in accelerators if not r["simulated"]]
    crossover = _crossover(document["data"]["crossover"])
    for row in rows:
        row["notes_length_s"] = row["per_epoch_s"] * reference.IRIS_TIMINGS[0].epochs
    for row in accelerators:
        row["vs_cpu"] = row["summary"]["median"] / cpu["summary"]["median"]
        row["speedup"] = cpu["summary"]["median"] / row["summary"]["median"]
    reference_rows = [
        {
            "source": p.source,
            "hardware": p.hardware,
            "kind": p.device_kind.upper(),
            "seconds": p.seconds,
            "per_epoch_s": p.per_epoch_s,
            "detail": p.detail,
        }
        for p in reference.IRIS_TIMINGS
    ]
    epochs = iris["epochs"]
    series = [
        plots.Series(
            device_label(e),
            [(i + 1) * e["curve_every"] for i in range(len(e["curve"]))],
            e["curve"],
        )
        for e in iris["per_device"]
    ]
    printed = [(ep, loss) for ep, loss in reference.IRIS_PRINTED_LOSS.items() if ep <= epochs]
    context = {
        "config": document["config"],
        "iris": iris,
        "rows": rows,
        "cpu": cpu,
        "accelerators": accelerators,
        "gpu_measured": bool(real_gpus),
        "reference_rows": reference_rows,
        "notes_epochs": reference.IRIS_TIMINGS[0].epochs,
        "notes_gpu_vs_cpu": reference.IRIS_TIMINGS[1].seconds / reference.IRIS_TIMINGS[0].seconds,
        "checkpoints": _checkpoints(iris),
        "loss_plot": plots.loss_curves(series, printed, "notes 000 (printed; unseeded)"),
        "timing_plot": _timing_plot(rows, iris),
        "crossover": crossover,
        "fixed_cost_share": 1 - cpu["gflops"] / crossover["best_cpu_gflops"]
        if crossover["best_cpu_gflops"] > cpu["gflops"]
        else None,
    }
    findings = [
        f"The notes' Iris loop ({number(epochs)} epochs, {iris['threads']} thread) took "
        f"{duration(cpu['summary']['median'])} on this CPU: {duration(cpu['per_epoch_s'])} per "
        f"epoch (median of {cpu['summary']['n']} repeats)."
    ]
    if real_gpus:
        for row in real_gpus:
            faster = row["vs_cpu"] < 1
            findings.append(
                f"On {row['label']} the same loop took {duration(row['summary']['median'])}: "
                + (
                    f"{ratio(1 / row['vs_cpu'])} faster than the CPU."
                    if faster
                    else f"{ratio(row['vs_cpu'])} slower than the CPU, as in the notes."
                )
            )
    else:
        findings.append(
            "No GPU was found on this machine, so the GPU side of the notes' "
            "comparison was not run here."
        )
    findings.append(
        f"Each epoch is {number(iris['flops_per_epoch'])} FLOP of matrix arithmetic, so this CPU "
        f"ran it at {number(cpu['gflops'], 3)} GFLOP/s, against "
        f"{number(crossover['best_cpu_gflops'], 3)} GFLOP/s on the largest sweep size: the tiny "
        "step's time is fixed per-operation cost, not arithmetic."
    )
    return section(document, context, findings)
