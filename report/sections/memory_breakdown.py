"""View of the memory_breakdown result: buckets per model, measured beside predicted."""

from __future__ import annotations

from typing import Any

from report import plots
from report.formatting import byte_size, number, percent
from report.load import RunResults
from report.sections import Section, device_label, section, unfinished

BUCKET_NAMES = {
    "parameters": "parameters",
    "gradients": "gradients",
    "optimizer_state": "optimizer state",
    "data": "data batch",
    "activations": "activations",
    "autocast_copies": "autocast copies",
}

# The notes' four places (003), and which measured buckets make up each.
NOTES_PLACES = (
    ("(1) parameters + gradients", ("parameters", "gradients")),
    ("(2) optimizer state", ("optimizer_state",)),
    ("(3) the data batch", ("data",)),
    ("(4) intermediate activations", ("activations", "autocast_copies")),
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
                "label": f"{entry['optimizer']} · batch {entry['batch']} · {entry['precision']}",
                "places": [
                    sum(entry["measured"][b] for b in members) for _, members in NOTES_PLACES
                ],
                "total": sum(entry["measured"].values()),
                "predicted_total": sum(entry["predicted"].values()),
            }
        )
    plot = plots.stacked_bars(
        [r["label"] for r in rows],
        [BUCKET_NAMES[b] for b in buckets],
        [[r["measured"][b] / 1024 for b in buckets] for r in rows],
        "KiB per training step (measured)",
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
        "places": [name for name, _ in NOTES_PLACES],
        "bucket_names": BUCKET_NAMES,
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
        findings.append(
            f"The MNIST MLP has {number(params)} parameters: {number(exact)} B in float32 "
            f"({number(exact / 1000)} kB, {byte_size(exact)}), and its gradients as much again; "
            f"the notes' “{NOTES_MNIST_PARAMETER_TEXT}” is {percent(abs(off))} "
            f"{'low' if off > 0 else 'high'}."
        )
    matched = all(m["all_match"] for d in devices for m in d["models"])
    findings.append(
        "Every memory bucket measured from the tensors of a real step equals its prediction from "
        "shapes and dtypes, to the byte."
        if matched
        else "Some measured memory buckets differ from their predictions (marked in the section)."
    )
    return section(document, context, findings)
