"""View of the batch_size_scaling result: speed, memory, the limit and training quality."""

from __future__ import annotations

from typing import Any

from report.render import plots
from report.render.load import RunResults
from report.render.sections import (
    Headline,
    Section,
    device_label,
    device_note,
    section,
    unfinished,
)
from report.words.formatting import approx, byte_size, number, percent
from report.words.i18n import _


def build(document: dict[str, Any], run: RunResults) -> Section:
    if (shown := unfinished(document)) is not None:
        return shown
    data = document["data"]
    devices = []
    for entry in data["per_device"]:
        limit = entry["limit"]
        confirm_error = None
        if limit["confirmed_peak_bytes"] and limit["predicted_peak_bytes"]:
            confirm_error = limit["confirmed_peak_bytes"] / limit["predicted_peak_bytes"] - 1
        best = max(entry["points"], key=lambda p: p["samples_per_s"])
        devices.append(
            {
                **entry,
                "label": device_label(entry),
                "limit": limit,
                "confirm_error": confirm_error,
                "best": best,
            }
        )
    speed_plot = plots.lines(
        [
            plots.Series(
                d["label"],
                [p["batch"] for p in d["points"]],
                [p["samples_per_s"] for p in d["points"]],
            )
            for d in devices
        ],
        _("batch size (log scale)"),
        _("training samples per second"),
    )
    memory_plot = plots.lines(
        [
            plots.Series(
                d["label"],
                [p["batch"] for p in d["points"]],
                [p["peak_bytes"] for p in d["points"]],
            )
            for d in devices
        ],
        _("batch size (log scale)"),
        _("memory of one training step"),
        y_format="bytes",
    )
    quality = data["quality"]
    quality_plot = plots.lines(
        [
            plots.Series(
                _("test accuracy"),
                [p["batch"] for p in quality["points"]],
                [p["test_accuracy"] for p in quality["points"]],
            )
        ],
        _("batch size (log scale)"),
        _("test accuracy after the same samples"),
        y_format="percent",
    )
    context = {
        "config": document["config"],
        "data": data,
        "devices": devices,
        "speed_plot": speed_plot,
        "memory_plot": memory_plot,
        "quality": quality,
        "quality_plot": quality_plot,
        "best_quality": max(quality["points"], key=lambda p: p["test_accuracy"]),
    }
    findings = []
    for view in devices:
        fit, limit = view["memory_fit"], view["limit"]
        if limit["method"] == "search":
            text = _(
                "On {device} each extra sample in a batch of the {model} adds {slope} to a step's "
                "memory on top of {intercept}; the largest batch that fits is {largest}, so the "
                "notes' rule recommends {recommended}."
            )
        else:
            text = _(
                "On {device} each extra sample in a batch of the {model} adds {slope} to a step's "
                "memory on top of {intercept}; a budget of {budget} would fit {largest} samples, "
                "so memory never limits this model here; speed and training quality do."
            )
        findings.append(
            text.format(
                device=view["label"],
                model=data["model"],
                slope=byte_size(fit["slope"]),
                intercept=byte_size(fit["intercept"]),
                largest=number(limit["largest_batch"])
                if limit["method"] == "search"
                else approx(limit["predicted_largest_batch"]),
                recommended=number(limit["recommended_batch"]),
                budget=byte_size(limit["budget_bytes"]),
            )
        )
    best = context["best_quality"]
    findings.append(
        _(
            "With the same {samples} training samples on digits, batch {batch} reached the best "
            "test accuracy ({accuracy}); larger batches take fewer steps and learn less at the "
            "same learning rate."
        ).format(
            samples=number(quality["sample_budget"]),
            batch=best["batch"],
            accuracy=percent(best["test_accuracy"], 3),
        )
    )
    return section(document, context, findings)


def headlines(document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """The largest batch that fits, on the CPU (predicted against a share of the RAM,
    confirmed by one step) and on the first other device (searched)."""
    found = []
    entries = document["data"]["per_device"]
    for kind, entry in (("cpu", entries[0]), ("gpu", entries[1] if len(entries) > 1 else None)):
        if entry is None:
            continue
        limit = entry["limit"]
        # a GPU's is searched; a CPU's predicted against a share of its RAM (the fit of
        # memory against batch size), one step of a smaller batch confirming the fit
        largest = limit["largest_batch"] or limit["predicted_largest_batch"]
        if largest is None:
            continue
        label = _("largest batch, CPU") if kind == "cpu" else _("largest batch, GPU")
        notes = [
            device_note(entry),
            _("predicted") if limit["largest_batch"] is None else "",
            _("at the ceiling tried") if limit["reached_ceiling"] else "",
        ]
        found.append(
            Headline(
                f"largest_batch/{kind}",
                label,
                "count",
                "higher",
                largest,
                note=_("; ").join(n for n in notes if n),
                simulated=entry["simulated"],
            )
        )
    return found
