"""View of the cpu_vs_gpu result: tables, plots and the sentences that explain them."""

from __future__ import annotations

from typing import Any

from report.render import plots, reference
from report.render.load import RunResults
from report.render.sections import (
    Runs,
    Section,
    SideBySide,
    caveats,
    device_label,
    machine,
    section,
    unfinished,
)

# The class view's figures, plots and sentences live in their own module (this one is long);
# the class view finds them here, as every experiment's.
from report.render.sections.cpu_vs_gpu_class import (
    across_machines as across_machines,
)
from report.render.sections.cpu_vs_gpu_class import (
    class_sentences as class_sentences,
)
from report.render.sections.cpu_vs_gpu_class import headlines as headlines
from report.words.formatting import duration, gflops, number, ratio
from report.words.i18n import _


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
                "flops_per_s": iris["flops_per_epoch"] / per_epoch,
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
                    "flops_per_s": point["flops_per_step"] / median,
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
            series,
            _("batch size = hidden width (log scale)"),
            _("time per training step (log scale)"),
        ),
        "best_cpu_flops_per_s": max(row["cells"][0]["flops_per_s"] for row in table),
        "largest_size": sizes[-1],
    }


def _timing_plot(rows: list[dict[str, Any]], iris: dict[str, Any]) -> str:
    epochs = iris["epochs"]
    entries = [
        plots.TimingRow(
            _("this run: {device}").format(device=row["label"]),
            [t / epochs for t in iris["per_device"][i]["times_s"]],
        )
        for i, row in enumerate(rows)
    ]
    entries += [
        plots.TimingRow(
            _("notes {source}: {hardware}").format(
                source=p.source, hardware=p.hardware.split(" (")[0]
            ),
            [p.per_epoch_s],
            published=True,
        )
        for p in reference.IRIS_TIMINGS
    ]
    return plots.timing_rows(entries, _("time per epoch; dots: repeats, bar: median"))


def _findings(
    iris: dict[str, Any],
    cpu: dict[str, Any],
    gpus: list[dict[str, Any]],
    best: float,
    conditions: dict[str, Any],
    unused_gpus: str | None = None,
) -> list[str]:
    summary = cpu["summary"]
    findings = [
        _(
            "The notes' Iris loop ({epochs} epochs, {threads} thread) took {time} on this CPU: "
            "{per_epoch} per epoch (median of {n} repeats)."
        ).format(
            epochs=number(iris["epochs"]),
            threads=iris["threads"],
            time=duration(summary["median"], cv=summary["cv"]) + caveats(summary, conditions),
            per_epoch=duration(cpu["per_epoch_s"], cv=summary["cv"]),
            n=summary["n"],
        )
    ]
    for row in gpus:
        time = duration(row["summary"]["median"], cv=row["summary"]["cv"])
        if row["vs_cpu"] < 1:
            text = _("On {device} the same loop took {time}: {factor} faster than the CPU.")
            factor = ratio(1 / row["vs_cpu"])
        else:
            text = _(
                "On {device} the same loop took {time}: {factor} slower than the CPU, as in the "
                "notes."
            )
            factor = ratio(row["vs_cpu"])
        findings.append(text.format(device=row["label"], time=time, factor=factor))
    if not gpus and unused_gpus:
        findings.append(
            _(
                "This machine has {gpus}, but the installed torch could not use it, so the GPU "
                "side of the notes' comparison was not run here (see the machine section)."
            ).format(gpus=unused_gpus)
        )
    elif not gpus:
        findings.append(
            _(
                "No GPU was found on this machine, so the GPU side of the notes' comparison was "
                "not run here."
            )
        )
    findings.append(
        _(
            "Each epoch is {flop} FLOP of matrix arithmetic, so this CPU ran it at {rate}, against "
            "{best} on the largest sweep size: the tiny step's time is fixed per-operation cost, "
            "not arithmetic."
        ).format(
            flop=number(iris["flops_per_epoch"]),
            rate=gflops(cpu["flops_per_s"], 2),
            best=gflops(best, 2),
        )
    )
    return findings


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
            "hardware": _(p.hardware),
            "kind": p.device_kind.upper(),
            "seconds": p.seconds,
            "per_epoch_s": p.per_epoch_s,
            "detail": _(p.detail),
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
        "loss_plot": plots.loss_curves(series, printed, _("notes 000 (printed; unseeded)")),
        "timing_plot": _timing_plot(rows, iris),
        "crossover": crossover,
        "fixed_cost_share": 1 - cpu["flops_per_s"] / crossover["best_cpu_flops_per_s"]
        if crossover["best_cpu_flops_per_s"] > cpu["flops_per_s"]
        else None,
    }
    unused = machine.unused_gpu(run.environment)
    findings = _findings(
        iris,
        cpu,
        real_gpus,
        crossover["best_cpu_flops_per_s"],
        document["conditions"],
        unused["names"] if unused else None,
    )
    return section(document, context, findings)


def side_by_side(runs: Runs) -> SideBySide | None:
    """For the diff: the CPU's Iris loss curve of every run, overlaid (with the same seed
    and thread count two machines' curves usually coincide; a gap is other arithmetic)."""
    series = []
    for label, document in runs:
        entry = document["data"]["iris"]["per_device"][0]
        every = entry["curve_every"]
        x = [(i + 1) * every for i in range(len(entry["curve"]))]
        series.append(plots.Series(label, x, entry["curve"]))
    if len(series) < 2:
        return None
    return SideBySide(
        name="cpu_vs_gpu",
        title=_("Loss curves overlaid"),
        figure=plots.loss_curves(series, [], ""),
        alt=_("Iris loss curves of every run"),
        caption=_(
            "The notes' Iris loop on the CPU, every run's curve. With the same seed and thread "
            "count the curves of two machines usually coincide; a visible gap means different "
            "arithmetic (another CPU's instruction set, another torch build)."
        ),
    )
