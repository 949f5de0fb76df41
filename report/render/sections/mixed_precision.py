"""View of the mixed_precision result, the machine's reason for it, and the notes' claims."""

from __future__ import annotations

from typing import Any

from experiments.contract.declaration import N_
from report.render.load import RunResults
from report.render.sections import (
    Headline,
    Section,
    device_label,
    device_note,
    section,
    unfinished,
)
from report.words import vocabulary
from report.words.formatting import listing, noise_digits, points, ratio
from report.words.i18n import _

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


# The notes' claims (004), as the notes make them; the Chinese report quotes the original.
CLAIMS = {
    "memory": N_("FP16 takes half of FP32's GPU memory"),
    "speed": N_("tensor cores make FP16 matrix math several to tens of times faster than FP32"),
    "accuracy": N_("training is faster with almost no loss of accuracy"),
    "volta": N_("needs tensor cores (GPUs of the Volta architecture or newer)"),
    "learning_rate": N_("the FP16 learning rate is usually set 2–4× that of FP32"),
}
VERDICTS = {
    "holds": N_("holds"),
    "does_not_hold": N_("does not hold here"),
    "applies": N_("applies"),
    "not_run": N_("not run on this machine"),
    "not_tested": N_("not tested"),
}


def _claim(claim: str, verdict: str, evidence: str) -> dict[str, str]:
    return {"claim": _(CLAIMS[claim]), "verdict": _(VERDICTS[verdict]), "evidence": evidence}


def _claims(rows: list[dict[str, Any]], environment: dict[str, Any]) -> list[dict[str, str]]:
    low = [r for r in rows if r["mode"] != "fp32" and not r["unsupported"]]
    claims = []
    ratios = [r["memory_ratio"] for r in low if r["memory_ratio"] is not None]
    if ratios:
        worst = max(ratios)
        evidence = _(
            "memory of a step under autocast is {low} to {high} of FP32's: weights, gradients and "
            "optimizer state stay FP32; only saved activations shrink"
        ).format(low=ratio(min(ratios)), high=ratio(worst))
        claims.append(_claim("memory", "holds" if worst <= 0.6 else "does_not_hold", evidence))
    speedups = [r["speedup"] for r in low if r["speedup"] is not None]
    if speedups:
        best = max(speedups)
        evidence = _("the best speed-up measured is {factor}").format(factor=ratio(best, 2))
        claims.append(_claim("speed", "holds" if best >= 2 else "does_not_hold", evidence))
    changes = [r["accuracy_change"] for r in low if r["accuracy_change"] is not None]
    if changes:
        largest = max(abs(c) for c in changes)
        evidence = (
            _("test accuracy did not change against FP32")
            if largest == 0
            else _("test accuracy changed by at most {change} against FP32").format(
                change=points(largest)
            )
        )
        verdict = "holds" if largest <= NEGLIGIBLE_ACCURACY else "does_not_hold"
        claims.append(_claim("accuracy", verdict, evidence))
    gpus = environment["gpus"]
    if gpus:
        capable = [g["name"] for g in gpus if g["tensor_cores"]["fp16"]]
        evidence = (
            _("tensor cores for FP16 on {gpus}").format(gpus=listing(capable))
            if capable
            else _("no GPU here reaches 7.0: FP16 runs without tensor cores")
        )
        claims.append(_claim("volta", "applies", evidence))
    else:
        evidence = _("no GPU; on the CPU FP16 depends on AVX512-FP16 / AMX-FP16")
        claims.append(_claim("volta", "not_run", evidence))
    evidence = _(
        "every mode here uses the same learning rate, so the comparison isolates precision"
    )
    claims.append(_claim("learning_rate", "not_tested", evidence))
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
                _(
                    "On {device} the best mixed-precision speed-up was {factor} "
                    "({mode}, {workload})."
                ).format(
                    device=view["label"],
                    factor=ratio(
                        best["speedup"], noise_digits(best["speedup"], best["summary"]["cv"])
                    ),
                    mode=best["mode"],
                    workload=best["workload"],
                )
            )
        slow = [r for r in view["rows"] if r["unsupported"]]
        for row in slow:
            findings.append(
                _("On {device} {mode} for {workload} was not timed: {reason}.").format(
                    device=view["label"],
                    mode=row["mode"],
                    workload=row["workload"],
                    reason=vocabulary.reason(row["unsupported"]),
                )
            )
    return section(document, context, findings)


def headlines(document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """The best speed-up a low precision gave over FP32 on each device kind, and whether that
    mode kept the test accuracy (within NEGLIGIBLE_ACCURACY)."""
    found = []
    entries = document["data"]["per_device"]
    for kind, entry in (("cpu", entries[0]), ("gpu", entries[1] if len(entries) > 1 else None)):
        if entry is None:
            continue
        rows = [
            r
            for workload in entry["workloads"]
            for r in _rows(workload)
            if r["mode"] != "fp32" and not r["unsupported"] and r["speedup"]
        ]
        if not rows:
            continue
        best = max(rows, key=lambda r: r["speedup"])
        change = best["accuracy_change"]
        kept = (
            _("accuracy kept")
            if change is not None and abs(change) <= NEGLIGIBLE_ACCURACY
            else _("accuracy changed")
            if change is not None
            else ""
        )
        note = _("; ").join(
            t
            for t in (
                _("{mode} on {workload}").format(
                    mode=best["mode"].upper(), workload=best["workload"]
                ),
                kept,
                _("slower than FP32") if best["speedup"] < 1 else "",
                device_note(entry),
            )
            if t
        )
        label = (
            _("best low-precision speed-up, CPU")
            if kind == "cpu"
            else _("best low-precision speed-up, GPU")
        )
        found.append(
            Headline(
                f"best_speedup/{kind}",
                label,
                "ratio",
                "higher",
                best["speedup"],
                note=note,
                simulated=entry["simulated"],
            )
        )
    return found
