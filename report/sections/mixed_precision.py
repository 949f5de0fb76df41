"""View of the mixed_precision result, the machine's reason for it, and the notes' claims."""

from __future__ import annotations

from typing import Any

from experiments.contract.declaration import N_
from report import vocabulary
from report.formatting import percent, ratio
from report.load import RunResults
from report.sections import Section, device_label, section, unfinished

# The workloads, in words.
WORKLOADS = {
    "notes_mnist": N_("the notes' MNIST MLP 784-128-64-10, batch 64, SGD lr 0.01"),
    "wide_mlp": N_(
        "a wide MLP 1024-2048-2048-10, batch 256: enough arithmetic for low precision to matter"
    ),
    "iris": N_("the notes' Iris MLP 4-10-3, full batch: the tiny case"),
    "digits": N_("64-64-10 on scikit-learn's digits, batch 64: real accuracy"),
}

# Accuracy changes smaller than this (in fraction of the test set) count as negligible.
NEGLIGIBLE_ACCURACY = 0.01


def _rows(workload: dict[str, Any]) -> list[dict[str, Any]]:
    fp32 = next(m for m in workload["modes"] if m["mode"] == "fp32")
    base_time, base_memory = fp32["summary"]["median"], fp32["memory"]
    rows = []
    for mode in workload["modes"]:
        memory = mode["memory"]
        total = sum(memory.values()) if memory else None
        base_total = sum(base_memory.values()) if base_memory else None
        median = mode["summary"]["median"]
        rows.append(
            {
                **mode,
                "workload": workload["workload"],
                "speedup": base_time / median if median and base_time else None,
                "memory_total": total,
                "memory_ratio": total / base_total if total and base_total else None,
                "accuracy_change": mode["accuracy"] - fp32["accuracy"]
                if mode["accuracy"] is not None and fp32["accuracy"] is not None
                else None,
            }
        )
    return rows


def _claims(rows: list[dict[str, Any]], environment: dict[str, Any]) -> list[dict[str, str]]:
    low = [r for r in rows if r["mode"] != "fp32" and not r["unsupported"]]
    claims = []
    ratios = [r["memory_ratio"] for r in low if r["memory_ratio"] is not None]
    if ratios:
        worst = max(ratios)
        claims.append(
            {
                "claim": "mixed precision halves memory",
                "verdict": "holds" if worst <= 0.6 else "does not hold here",
                "evidence": f"memory of a step under autocast is {ratio(min(ratios))} to "
                f"{ratio(worst)} of FP32's: weights, gradients and optimizer "
                "state stay FP32; only saved activations shrink",
            }
        )
    speedups = [r["speedup"] for r in low if r["speedup"] is not None]
    if speedups:
        best = max(speedups)
        claims.append(
            {
                "claim": "several to tens of times faster (tensor cores)",
                "verdict": "holds" if best >= 2 else "does not hold here",
                "evidence": f"the best speed-up measured is {ratio(best)}",
            }
        )
    changes = [r["accuracy_change"] for r in low if r["accuracy_change"] is not None]
    if changes:
        largest = max(abs(c) for c in changes)
        claims.append(
            {
                "claim": "the accuracy loss is negligible",
                "verdict": "holds" if largest <= NEGLIGIBLE_ACCURACY else "does not hold here",
                "evidence": f"test accuracy changed by at most {percent(largest, 2)} "
                "(points) against FP32",
            }
        )
    gpus = environment["gpus"]
    if gpus:
        capable = [g["name"] for g in gpus if g["tensor_cores"]["fp16"]]
        claims.append(
            {
                "claim": "FP16 needs Volta (compute capability 7.0) or newer",
                "verdict": "applies",
                "evidence": ("tensor cores for FP16 on " + ", ".join(capable))
                if capable
                else "no GPU here reaches 7.0: FP16 runs without tensor cores",
            }
        )
    else:
        claims.append(
            {
                "claim": "FP16 needs Volta (compute capability 7.0) or newer",
                "verdict": "not run on this machine",
                "evidence": "no GPU; on the CPU FP16 depends on AVX512-FP16 / AMX-FP16",
            }
        )
    claims.append(
        {
            "claim": "raise the learning rate 2–4× under FP16",
            "verdict": "not tested",
            "evidence": "every mode here uses the same learning rate, so the comparison "
            "isolates precision",
        }
    )
    return claims


def build(document: dict[str, Any], run: RunResults) -> Section:
    if (shown := unfinished(document)) is not None:
        return shown
    data = document["data"]
    devices = []
    for entry in data["per_device"]:
        rows = [row for workload in entry["workloads"] for row in _rows(workload)]
        devices.append(
            {
                "label": device_label(entry),
                "device": entry["device"],
                "workloads": [
                    {**w, "description": vocabulary.lookup(WORKLOADS, w["workload"])}
                    for w in entry["workloads"]
                ],
                "rows": rows,
                "claims": _claims(rows, run.environment),
            }
        )
    isa = run.environment["cpu"].get("isa") or {}
    context = {
        "config": document["config"],
        "data": data,
        "devices": devices,
        "isa": isa,
        "gpus": run.environment["gpus"],
        "conditions": document["conditions"],
    }
    findings = []
    for view in devices:
        fast = [r for r in view["rows"] if r["mode"] != "fp32" and r["speedup"]]
        if fast:
            best = max(fast, key=lambda r: r["speedup"])
            findings.append(
                f"On {view['label']} the best mixed-precision speed-up was "
                f"{ratio(best['speedup'])} ({best['mode']}, {best['workload']})."
            )
        slow = [r for r in view["rows"] if r["unsupported"]]
        for row in slow:
            findings.append(
                f"On {view['label']} {row['mode']} for {row['workload']} was not "
                f"timed: {vocabulary.reason(row['unsupported'])}."
            )
    return section(document, context, findings)
