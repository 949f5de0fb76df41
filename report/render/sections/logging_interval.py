"""View of the logging_interval result: the notes' table with spread, the per-call cost."""

from __future__ import annotations

from typing import Any

from report.render import plots, reference
from report.render.load import RunResults
from report.render.sections import (
    Headline,
    Section,
    device_label,
    device_note,
    gpu_measured,
    section,
    unfinished,
)
from report.words.formatting import duration, number
from report.words.i18n import _


def _direct(
    direct: dict[str, Any] | None, variants: list[dict[str, Any]], epochs: int
) -> dict[str, Any] | None:
    """One .item() timed on its own, set against the loop it sits in: its cost times the
    loop's calls, beside the loop's own run-to-run spread."""
    if not direct:
        return None
    item = direct["item"]
    every_epoch = next((v for v in variants if v["every"] == 1), None)
    return {
        **item,
        "low": item["ci95"][0] if item["ci95"] else None,
        "high": item["ci95"][1] if item["ci95"] else None,
        "total_s": item["mean_s"] * epochs,
        "spread_s": every_epoch["summary"]["iqr"] if every_epoch else None,
        "launch_sync": direct.get("launch_sync"),
    }


def _device_view(entry: dict[str, Any], epochs: int) -> dict[str, Any]:
    rows = []
    for variant in entry["variants"]:
        every = variant["every"]
        rows.append(
            {
                **variant,
                "label": _("every {every}").format(every=every)
                if every
                else _("never (read once at the end)"),
                "notes_s": reference.LOGGING_REMAINING_S.get(every) if every else None,
            }
        )
    recorded = [v for v in entry["variants"] if v["every"]]
    once = next((v for v in entry["variants"] if v["every"] is None), None)
    fit = entry["fit"]
    view: dict[str, Any] = {
        "label": device_label(entry),
        "device": entry["device"],
        "simulated": entry["simulated"],
        "rows": rows,
        "fit": fit,
        "verdict": entry["notes_intervals"],
        "read_once": once,
        "series": plots.CountSeries(
            label=device_label(entry),
            counts=[float(v["records"]) for v in recorded for _ in v["times_s"]],
            seconds=[t for v in recorded for t in v["times_s"]],
            fit=(fit["intercept"], fit["slope"]) if fit else None,
            floor=once["summary"]["median"] if once else None,
        ),
    }
    view["direct"] = _direct(entry.get("direct"), entry["variants"], epochs)
    if fit:
        low, high = fit["slope_ci95"]
        view["cost_resolved"] = low > 0 or high < 0
        view["per_epoch_s"] = fit["intercept"] / epochs
        # what the fit predicts between the notes' shortest and longest intervals
        view["notes_predicted_s"] = fit["slope"] * (epochs // 100 - epochs // 2000)
    return view


def build(document: dict[str, Any], run: RunResults) -> Section:
    if (shown := unfinished(document)) is not None:
        return shown
    data = document["data"]
    devices = [_device_view(e, data["epochs"]) for e in data["per_device"]]
    context = {
        "config": document["config"],
        "data": data,
        "devices": devices,
        "gpu_measured": gpu_measured(devices),
        "notes_hardware": reference.LOGGING_HARDWARE,
        "notes_table": reference.LOGGING_REMAINING_S,
        "plot": plots.time_against_count(
            [d["series"] for d in devices],
            _("loss values recorded with .item() during the loop (log scale)"),
            _("no .item() in the loop"),
        ),
    }
    findings = []
    for view in devices:
        fit = view["fit"]
        direct = view["direct"]
        if direct and direct["low"] is not None:
            findings.append(
                _(
                    "On {device} one loss.item() costs {cost} measured on its own (95 % "
                    "interval {low} to {high}), so {epochs} of them add {total} to a loop whose "
                    "run-to-run spread (IQR) is {spread}."
                ).format(
                    device=view["label"],
                    cost=duration(direct["mean_s"], 3),
                    low=duration(direct["low"], 3),
                    high=duration(direct["high"], 3),
                    epochs=number(data["epochs"]),
                    total=duration(direct["total_s"], 2),
                    spread=duration(direct["spread_s"], 2),
                )
            )
            continue
        if not fit:
            continue
        low, high = fit["slope_ci95"]
        if view["cost_resolved"]:
            findings.append(
                _(
                    "On {device} one loss.item() costs {cost} (95 % interval {low} to {high})."
                ).format(
                    device=view["label"],
                    cost=duration(fit["slope"], 2),
                    low=duration(low, 2),
                    high=duration(high, 2),
                )
            )
        else:
            findings.append(
                _(
                    "On {device} the cost of one loss.item() could not be told from zero (95 % "
                    "interval {low} to {high}): the run-to-run noise is larger than all the "
                    ".item() calls together."
                ).format(device=view["label"], low=duration(low, 2), high=duration(high, 2))
            )
    return section(document, context, findings)


def headlines(document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """What one loss.item() costs inside the loop, as fitted, on each device (one figure a
    device kind: the CPU, then the first other device)."""
    found = []
    entries = document["data"]["per_device"]
    for kind, entry in (("cpu", entries[0]), ("gpu", entries[1] if len(entries) > 1 else None)):
        if entry is None or not entry["fit"]:
            continue
        label = _("one .item(), CPU") if kind == "cpu" else _("one .item(), GPU")
        low, high = entry["fit"]["slope_ci95"]
        resolved = low > 0 or high < 0
        notes = [
            device_note(entry),
            "" if resolved else _("within noise: its 95 % interval holds 0"),
        ]
        found.append(
            Headline(
                f"item/{kind}",
                label,
                "duration",
                value=entry["fit"]["slope"],
                note=_("; ").join(n for n in notes if n),
                uncertain=not resolved,
                simulated=entry["simulated"],
            )
        )
    return found
