"""View of the memory_breakdown result: buckets per model, measured beside predicted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from experiments.contract.declaration import N_
from report.render import machine_plots, plots
from report.render.load import RunResults
from report.render.sections import (
    Headline,
    Machine,
    Runs,
    Section,
    SideBySide,
    device_label,
    section,
    unfinished,
)
from report.words.formatting import byte_size, number, percent
from report.words.i18n import _

BUCKET_NAMES = {
    "parameters": N_("parameters"),
    "gradients": N_("gradients"),
    "optimizer_state": N_("optimizer state"),
    "data": N_("data batch"),
    "activations": N_("activations"),
    "autocast_copies": N_("autocast copies"),
}

# The notes' four places (003), and which measured buckets make up each.
NOTES_PLACES = (
    (N_("(1) parameters + gradients"), ("parameters", "gradients")),
    (N_("(2) optimizer state"), ("optimizer_state",)),
    (N_("(3) the data batch"), ("data",)),
    (N_("(4) intermediate activations"), ("activations", "autocast_copies")),
)

# Note 003's figure for the MNIST MLP's float32 parameters, as printed there.
NOTES_MNIST_PARAMETER_TEXT = "101770 × 4 B ≈ 403 KB"
NOTES_MNIST_PARAMETER_KB = 403


def _model_view(entries: list[dict[str, Any]], buckets: list[str]) -> dict[str, Any]:
    rows = []
    for entry in entries:
        rows.append(
            {
                **entry,
                "label": _("{optimizer} · batch {batch} · {precision}").format(
                    optimizer=entry["optimizer"], batch=entry["batch"], precision=entry["precision"]
                ),
                "places": [
                    sum(entry["measured"][b] for b in members) for _name, members in NOTES_PLACES
                ],
                "total": sum(entry["measured"].values()),
                "predicted_total": sum(entry["predicted"].values()),
            }
        )
    plot = plots.stacked_bars(
        [r["label"] for r in rows],
        [_(BUCKET_NAMES[b]) for b in buckets],
        [[r["measured"][b] for b in buckets] for r in rows],
        _("memory of one training step, measured"),
    )
    return {
        "name": entries[0]["model"],
        "parameter_count": entries[0]["parameter_count"],
        "rows": rows,
        "plot": plot,
        "all_match": all(r["match"] for r in rows),
    }


def build(document: dict[str, Any], run: RunResults) -> Section:
    if (shown := unfinished(document)) is not None:
        return shown
    data = document["data"]
    devices: list[dict[str, Any]] = []
    for entry in data["per_device"]:
        models: dict[str, list[dict[str, Any]]] = {}
        for item in entry["entries"]:
            models.setdefault(item["model"], []).append(item)
        devices.append(
            {
                "label": device_label(entry),
                "models": [_model_view(items, data["buckets"]) for items in models.values()],
                "has_allocator": any(item["allocator"] for item in entry["entries"]),
            }
        )
    mnist = next((m for m in devices[0]["models"] if m["name"] == "mnist_mlp"), None)
    context = {
        "config": document["config"],
        "devices": devices,
        "places": [_(name) for name, _members in NOTES_PLACES],
        "buckets": data["buckets"],
        "mnist": mnist,
        "notes_mnist_text": NOTES_MNIST_PARAMETER_TEXT,
        "notes_mnist_kb": NOTES_MNIST_PARAMETER_KB,
        "mnist_bytes": mnist["parameter_count"] * 4 if mnist else None,
        "mnist_kb": mnist["parameter_count"] * 4 / 1000 if mnist else None,
    }
    findings = []
    if mnist:
        params = mnist["parameter_count"]
        exact = params * 4
        off = exact / (NOTES_MNIST_PARAMETER_KB * 1000) - 1
        verdict = (
            _(
                "The MNIST MLP has {parameters} parameters: {bytes} B in float32 ({kb} kB, {kib}), "
                "and its gradients as much again; the notes' “{notes}” is {off} low."
            )
            if off > 0
            else _(
                "The MNIST MLP has {parameters} parameters: {bytes} B in float32 ({kb} kB, "
                "{kib}), and its gradients as much again; the notes' “{notes}” is {off} high."
            )
        )
        findings.append(
            verdict.format(
                parameters=number(params),
                bytes=number(exact),
                kb=number(exact / 1000),
                kib=byte_size(exact),
                notes=NOTES_MNIST_PARAMETER_TEXT,
                off=percent(abs(off)),
            )
        )
    matched = all(m["all_match"] for d in devices for m in d["models"])
    findings.append(
        _(
            "Every memory bucket measured from the tensors of a real step equals its prediction "
            "from shapes and dtypes, to the byte."
        )
        if matched
        else _(
            "Some measured memory buckets differ from their predictions (marked in the section)."
        )
    )
    return section(document, context, findings)


def side_by_side(runs: Runs) -> SideBySide | None:
    """For the diff: the total bytes of every measured training step, run by run (shapes
    and dtypes decide them, so no statistics: they differ only where the software does)."""
    totals: dict[str, list[int | None]] = {}
    for index, (_label, document) in enumerate(runs):
        for e in document["data"]["per_device"][0]["entries"]:
            key = f"{e['model']} · {e['optimizer']} · batch {e['batch']} · {e['precision']}"
            totals.setdefault(key, [None] * len(runs))[index] = sum(e["measured"].values())
    if len(runs) < 2 or not totals:
        return None
    return SideBySide(
        name="memory_breakdown",
        title=_("Memory side by side"),
        header=[_("model · optimizer · batch · precision"), *(label for label, _d in runs)],
        rows=[[key, *(byte_size(v) for v in values)] for key, values in totals.items()],
        caption=_(
            "Bytes of one training step by the memory experiment's buckets: shapes and dtypes "
            "decide them, so they differ between machines only where the software does "
            "(another torch version, another autocast dtype)."
        ),
    )


def _notes_step(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The notes' own case: the MNIST MLP with plain SGD in float32 (else the first entry)."""
    wanted = ("mnist_mlp", "sgd", "float32")
    return next(
        (e for e in entries if (e["model"], e["optimizer"], e["precision"]) == wanted), entries[0]
    )


def headlines(document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """Bytes of the notes' MNIST training step as measured, and how many of all the measured
    steps their shapes predicted to the byte (a fact, not ranked)."""
    entries = document["data"]["per_device"][0]["entries"]
    step = _notes_step(entries)
    return [
        Headline(
            "notes_step_bytes",
            _("bytes of one MNIST step (SGD, float32)"),
            "bytes",
            better="",
            value=sum(step["measured"].values()),
            note=_("as predicted") if step["match"] else _("not as predicted"),
        ),
        Headline(
            "predicted_share",
            _("share of steps predicted to the byte"),
            "percent",
            better="",
            value=sum(1 for e in entries if e["match"]) / len(entries),
        ),
    ]


def across_machines(machines: Sequence[Machine]) -> list[SideBySide]:
    """Every measured training step of every machine: predicted bytes against measured."""
    points = [
        machine_plots.Point(
            m.label,
            sum(e["predicted"].values()),
            sum(e["measured"].values()),
            e["precision"],
            m.mine,
        )
        for m in machines
        for e in m.document["data"]["per_device"][0]["entries"]
    ]
    if not points:
        return []
    return [
        SideBySide(
            name="memory_breakdown",
            title=_("Memory predicted and measured, every machine"),
            figure=machine_plots.scatter(
                points,
                _("predicted from shapes and dtypes (log scale)"),
                _("measured in a real training step (log scale)"),
                x_unit="bytes",
                y_unit="bytes",
                diagonal=True,
            ),
            alt=_("predicted against measured bytes of every training step"),
            caption=_(
                "One point per model, optimizer, batch and precision of every machine. On the "
                "dashed line the prediction from shapes and dtypes is exact; memory depends on "
                "shapes, not on the machine, so every machine's points fall in the same places."
            ),
        )
    ]
