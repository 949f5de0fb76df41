"""The cpu_vs_gpu experiment across a class's machines: its headline figures, plots and
sentences (the class view finds them through report/render/sections/cpu_vs_gpu.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from report.render import machine_plots
from report.render.sections import Headline, Machine, SideBySide, device_note, first_gpu
from report.words.formatting import listing
from report.words.i18n import _


def headlines(document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """The notes' Iris loop per epoch on each device, the GPU's time over the CPU's, and the
    size from which the GPU wins (none on a machine without one)."""
    iris, crossover = document["data"]["iris"], document["data"]["crossover"]
    cpu = iris["per_device"][0]
    found = [
        Headline("iris/cpu", _("Iris loop per epoch, CPU"), "duration", metric="iris/cpu"),
    ]
    gpu = first_gpu(iris["per_device"])
    if gpu is None:
        return found
    note = device_note(gpu)
    found.append(
        Headline(
            "iris/gpu",
            _("Iris loop per epoch, GPU"),
            "duration",
            metric=f"iris/{gpu['device']}",
            note=note,
            simulated=gpu["simulated"],
        )
    )
    found.append(
        Headline(
            "gpu_over_cpu",
            _("GPU time ÷ CPU time"),
            "ratio",
            value=gpu["summary"]["median"] / cpu["summary"]["median"],
            note=note,
            simulated=gpu["simulated"],
        )
    )
    sweep = first_gpu(crossover["per_device"])
    if sweep is not None:
        found.append(
            Headline(
                "crossover",
                _("GPU faster from N"),
                "count",
                value=sweep["crossover_size"],
                note=note
                if sweep["crossover_size"]
                else _("never up to N = {size}").format(size=sweep["points"][-1]["size"]),
                simulated=sweep["simulated"],
            )
        )
    return found


def _generation(environment: dict[str, Any]) -> tuple[float, str, str] | None:
    """The first GPU's GeForce generation as a number, its words, and its tier."""
    reading = next(
        (g.get("geforce_reading") for g in environment["gpus"] if g.get("geforce_reading")), None
    )
    if not reading or not reading["generation"].isdigit():
        return None
    words = reading["generation"]
    if reading.get("generation_architecture"):
        words += f" ({reading['generation_architecture']})"
    return float(reading["generation"]), words, reading["tier"]


def across_machines(machines: Sequence[Machine]) -> list[SideBySide]:
    """Iris time per epoch by device and machine; the GPU's time over the CPU's against the
    GPU's generation and tier."""
    shown = []
    ranked = sorted(
        machines, key=lambda m: m.document["data"]["iris"]["per_device"][0]["summary"]["median"]
    )
    per_epoch: dict[str, list[float | None]] = {"CPU": [], "GPU": []}
    for m in ranked:
        iris = m.document["data"]["iris"]
        gpu = first_gpu(iris["per_device"])
        per_epoch["CPU"].append(iris["per_device"][0]["summary"]["median"] / iris["epochs"])
        per_epoch["GPU"].append(gpu["summary"]["median"] / iris["epochs"] if gpu else None)
    if not any(per_epoch["GPU"]):
        del per_epoch["GPU"]
    elif all(
        (g := first_gpu(m.document["data"]["iris"]["per_device"])) is None or g["simulated"]
        for m in ranked
    ):
        per_epoch[_("GPU (simulated)")] = per_epoch.pop("GPU")
    shown.append(
        SideBySide(
            name="cpu_vs_gpu",
            title=_("The notes' Iris loop on every machine"),
            figure=machine_plots.ranked_dots(
                [m.label for m in ranked],
                per_epoch,
                _("time per epoch (log scale)"),
                highlight=[m.mine for m in ranked],
            ),
            alt=_("time per epoch of the Iris loop, machine by machine"),
            caption=_(
                "Median time per epoch of the notes' loop (full batch, loss.item() every "
                "epoch), machines from the fastest CPU to the slowest; a second marker where "
                "the machine has a GPU."
            ),
        )
    )
    points = []
    for m in machines:
        gpu = first_gpu(m.document["data"]["iris"]["per_device"])
        generation = _generation(m.environment)
        if gpu is None or gpu["simulated"] or generation is None:
            continue
        cpu = m.document["data"]["iris"]["per_device"][0]
        points.append(
            machine_plots.Point(
                m.label,
                generation[0],
                gpu["summary"]["median"] / cpu["summary"]["median"],
                _("tier {tier}").format(tier=generation[2]),
                m.mine,
                generation[1],
            )
        )
    if points:
        shown.append(
            SideBySide(
                name="cpu_vs_gpu",
                title=_("GPU over CPU, by GeForce generation and tier"),
                figure=machine_plots.scatter(
                    points,
                    _("GeForce generation"),
                    _("GPU time ÷ CPU time (log scale; below 1: the GPU is faster)"),
                    y_unit="ratio",
                    categorical_x=True,
                ),
                alt=_("the GPU's time over the CPU's against the GPU generation"),
                caption=_(
                    "Each GPU machine's Iris loop on its GPU over the same loop on its CPU, "
                    "placed by the GPU's generation and marked by its tier. On a model this "
                    "small a newer or larger GPU rarely helps: the loop waits on launches and "
                    "synchronisations, not on arithmetic."
                ),
            )
        )
    return shown


def class_sentences(machines: Sequence[Machine]) -> list[str]:
    """Where the GPU starts to win, across the GPU machines (simulated ones left out)."""
    sizes = []
    for m in machines:
        sweep = first_gpu(m.document["data"]["crossover"]["per_device"])
        if sweep is not None and not sweep["simulated"]:
            sizes.append((m, sweep["crossover_size"], sweep["points"][-1]["size"]))
    if not sizes:
        return [
            _(
                "No machine of this class measured a real GPU (a simulated one does not count), "
                "so from which N a GPU is faster than the CPU is not known here."
            )
        ]
    winning = sorted(size for _m, size, _largest in sizes if size)
    never = [m.label for m, size, _largest in sizes if not size]
    found = []
    if winning and winning[0] == winning[-1]:
        found.append(
            _("The GPU wins from N = {size} on {count} of {total} GPU machines.").format(
                size=winning[0], count=len(winning), total=len(sizes)
            )
        )
    elif winning:
        found.append(
            _(
                "The GPU wins from N = {low} to {high}, depending on the machine, on {count} "
                "of {total} GPU machines."
            ).format(low=winning[0], high=winning[-1], count=len(winning), total=len(sizes))
        )
    if never:
        found.append(
            _("It never wins within the sizes tried on: {machines}.").format(
                machines=listing(never)
            )
        )
    return found
