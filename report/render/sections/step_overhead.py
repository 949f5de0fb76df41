"""View of the step_overhead result, and the answer to "why is the GPU slower here?"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from experiments.contract.declaration import N_
from report.render import factor_plots as plots_factors
from report.render import machine_plots, plots
from report.render.load import RunResults
from report.render.sections import (
    Headline,
    Machine,
    Section,
    SideBySide,
    caveats,
    device_label,
    gpu_measured,
    section,
    unfinished,
)
from report.words import vocabulary
from report.words.formatting import duration, percent, ratio
from report.words.i18n import _

# What each rung of the ladder takes away, against the rung above it.
REMOVES = {
    "manual": N_(
        "Autograd and the optimizer object are gone: the gradients are two lines of "
        "tensor arithmetic."
    ),
    "compiled_step": N_(
        "The whole step is captured as one graph: with the inductor backend its operations "
        "are fused into a few compiled kernels called from C++ (the quick profile's eager "
        "backend only captures it, so there it is no faster)."
    ),
    "numpy": N_("No dispatcher and no autograd, but still one Python call per array operation."),
    "cpp": N_(
        "No Python inside the step at all: what remains is one call per step and plain "
        "loops over a few hundred numbers."
    ),
}

# What each way of doing the notes' step changes.
VARIANTS = {
    "notes": N_("the notes' loop: model(x), zero_grad(), backward(), SGD step, loss.item()"),
    "forward_call": N_(
        "model.forward(x) instead of model(x): skips nn.Module.__call__ (and hooks)"
    ),
    "keep_grads": N_("zero_grad(set_to_none=False): gradients zeroed in place, not freed"),
    "foreach": N_("SGD(foreach=True): one multi-tensor update instead of one per parameter"),
    "fused": N_("SGD(fused=True): the update as a single fused kernel"),
    "manual": N_("backward written by hand under torch.inference_mode(): no autograd"),
    "compiled": N_("torch.compile(model): forward and backward compiled, SGD step eager"),
    "compiled_step": N_(
        "the whole step (forward, loss, backward, SGD update) as one function, compiled as one "
        "graph by torch.compile (on a CPU with inductor's C++ wrapper)"
    ),
    "numpy": N_("the same arithmetic in NumPy: no autograd, no dispatcher, one call per array"),
    "cpp": N_("the whole step as one C++ function of plain loops, built at run time"),
    "cuda_graph": N_("the whole step captured once as a CUDA graph, then replayed"),
}


def _device_view(entry: dict[str, Any], flops: int) -> dict[str, Any]:
    rows = []
    notes = next(v for v in entry["variants"] if v["variant"] == "notes")
    notes_median = notes["summary"]["median"]
    for variant in entry["variants"]:
        median = variant["summary"]["median"]
        rows.append(
            {
                **variant,
                "description": vocabulary.lookup(VARIANTS, variant["variant"]),
                "speedup": notes_median / median if median and notes_median else None,
                "floor_share": entry["floor_step_s"] / median if median else None,
                "op_cost_s": median / variant["ops_per_step"]
                if median and variant["ops_per_step"]
                else None,
            }
        )
    measured = [r for r in rows if r["step_s"]]
    plot = plots.timing_rows(
        [plots.TimingRow(r["variant"], r["step_s"]) for r in measured],
        _("time per training step; dots: repeats, bar: median"),
        reference=(entry["floor_step_s"], _("arithmetic floor (FLOPs ÷ measured peak)")),
    )
    fastest = min((r for r in measured if r["equivalent"]), key=lambda r: r["summary"]["median"])
    ladder_rows = sorted(measured, key=lambda r: -r["summary"]["median"])
    ladder = plots_factors.ladder(
        [r["variant"] for r in ladder_rows],
        [r["summary"]["median"] for r in ladder_rows],
        entry["floor_step_s"],
        _("arithmetic floor"),
        _("time per training step (log scale); × = times the arithmetic floor"),
    )
    notes_row = next(r for r in rows if r["variant"] == "notes")
    rungs = [
        {
            "variant": r["variant"],
            "median": r["summary"]["median"],
            "cv": r["summary"]["cv"],
            "speedup": r["speedup"],
            "over_floor": r["summary"]["median"] / entry["floor_step_s"],
            "removes": _(REMOVES[r["variant"]]),
        }
        for r in sorted(measured, key=lambda r: -r["summary"]["median"])
        if r["variant"] in REMOVES and r["equivalent"]
    ]
    return {
        "rungs": rungs,
        "notes_over_floor": notes_row["summary"]["median"] / entry["floor_step_s"],
        "label": device_label(entry),
        "device": entry["device"],
        "simulated": entry["simulated"],
        "is_cuda": entry["device"].startswith("cuda"),
        "peak_flops": entry["peak_flops"],
        "floor_step_s": entry["floor_step_s"],
        "rows": rows,
        "notes": next(r for r in rows if r["variant"] == "notes"),
        "fastest": fastest,
        "compiled": next((r for r in rows if r["variant"] == "compiled" and r["step_s"]), None),
        "compiled_step": next(
            (r for r in rows if r["variant"] == "compiled_step" and r["step_s"]), None
        ),
        "cpp": next((r for r in rows if r["variant"] == "cpp" and r["step_s"]), None),
        "cpp_call_s": entry.get("cpp_call_s"),
        "plot": plot,
        "ladder": ladder,
        "all_equivalent": all(r["equivalent"] for r in measured),
    }


def _why(run: RunResults, devices: list[dict[str, Any]]) -> dict[str, Any]:
    """The section's closing answer draws on the other experiments of the same run."""
    answer: dict[str, Any] = {"cost_per_item": [], "crossover": []}
    logging = run.experiments.get("logging_interval")
    if logging and logging["status"] == "ok":
        for entry in logging["data"]["per_device"]:
            direct = (entry.get("direct") or {}).get("item")
            if entry["fit"] or direct:
                answer["cost_per_item"].append(
                    {
                        "label": device_label(entry),
                        "slope": entry["fit"]["slope"] if entry["fit"] else None,
                        "ci95": entry["fit"]["slope_ci95"] if entry["fit"] else [0.0, 0.0],
                        "direct_s": direct["mean_s"] if direct else None,
                    }
                )
    cpu_vs_gpu = run.experiments.get("cpu_vs_gpu")
    if cpu_vs_gpu and cpu_vs_gpu["status"] == "ok":
        for entry in cpu_vs_gpu["data"]["crossover"]["per_device"][1:]:
            answer["crossover"].append(
                {"label": device_label(entry), "size": entry["crossover_size"]}
            )
    return answer


def build(document: dict[str, Any], run: RunResults) -> Section:
    if (shown := unfinished(document)) is not None:
        return shown
    data = document["data"]
    devices = [_device_view(e, data["flops_per_step"]) for e in data["per_device"]]
    context = {
        "config": document["config"],
        "data": data,
        "devices": devices,
        "gpu_measured": gpu_measured(devices),
        "why": _why(run, devices),
    }
    findings = []
    for view in devices:
        notes, fastest = view["notes"], view["fastest"]
        findings.append(
            _(
                "On {device} a notes-style step takes {step}, of which arithmetic needs only "
                "{floor} ({share}); the fastest equivalent way, {fastest}, takes {fastest_step} "
                "({factor} as fast)."
            ).format(
                device=view["label"],
                step=duration(notes["summary"]["median"], cv=notes["summary"]["cv"])
                + caveats(notes["summary"], document["conditions"]),
                floor=duration(view["floor_step_s"], 2),
                share=percent(notes["floor_share"]),
                fastest=fastest["variant"],
                fastest_step=duration(fastest["summary"]["median"], cv=fastest["summary"]["cv"]),
                factor=ratio(fastest["speedup"], 2),
            )
        )
    return section(document, context, findings)


def _fastest(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The fastest way that computes the same thing as the notes' step (checked)."""
    measured = [v for v in entry["variants"] if v["step_s"] and v["equivalent"]]
    return min(measured, key=lambda v: v["summary"]["median"]) if measured else None


def headlines(document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """The notes' step on the CPU, the fastest equivalent way and its speed-up, and the
    CPU's measured arithmetic rate."""
    cpu = document["data"]["per_device"][0]
    notes = next(v for v in cpu["variants"] if v["variant"] == "notes")
    found = [
        Headline("notes/cpu", _("the notes' step, CPU"), "duration", metric="variant/notes/cpu")
    ]
    fastest = _fastest(cpu)
    if fastest is not None and notes["summary"]["median"]:
        found.append(
            Headline(
                "fastest/cpu",
                _("fastest equivalent step, CPU"),
                "duration",
                metric=f"variant/{fastest['variant']}/cpu",
                note=fastest["variant"],
            )
        )
        found.append(
            Headline(
                "speedup/cpu",
                _("its speed-up over the notes' step"),
                "ratio",
                better="higher",
                value=notes["summary"]["median"] / fastest["summary"]["median"],
            )
        )
    found.append(
        Headline(
            "peak/cpu",
            _("measured matrix-multiply rate, CPU"),
            "flops",
            better="higher",
            value=cpu["peak_flops"],
        )
    )
    return found


def across_machines(machines: Sequence[Machine]) -> list[SideBySide]:
    """The notes' step time against the machine's measured arithmetic rate."""
    points = []
    for m in machines:
        cpu = m.document["data"]["per_device"][0]
        notes = next(v for v in cpu["variants"] if v["variant"] == "notes")
        if notes["summary"]["median"]:
            points.append(
                machine_plots.Point(
                    m.label, cpu["peak_flops"], notes["summary"]["median"], "CPU", m.mine
                )
            )
    if not points:
        return []
    return [
        SideBySide(
            name="step_overhead",
            title=_("Step time against arithmetic rate"),
            figure=machine_plots.scatter(
                points,
                _("measured float32 matrix-multiply rate of the CPU (log scale)"),
                _("the notes' training step on the CPU (log scale)"),
                x_unit="flops",
                y_unit="duration",
            ),
            alt=_("the notes' step time against each machine's arithmetic rate"),
            caption=_(
                "If the notes' step were arithmetic, machines that multiply faster would step "
                "faster and the points would fall along a line down to the right. They do not: "
                "the step is a few thousand floating-point operations wrapped in microseconds "
                "of Python, dispatch and bookkeeping per operation."
            ),
        )
    ]
