"""Measuring experiment 2 of the notes: how often to call `loss.item()`, and its cost.

The notes recorded the loss every k epochs and found "no clear linear
relation" between k and the time, from single runs. Here every interval is
timed repeatedly, interleaved with the others, and a straight line
time = T0 + records × c through all repeats gives c, the cost of one
`.item()`, with a 95 % confidence interval. On a GPU each `.item()` is a
device-to-host copy that makes the CPU wait; on a CPU it is a plain read.
A variant that never calls `.item()` in the loop shows the floor.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

import torch

from experiments.contract.statistics import kruskal_wallis_p, linear_fit
from experiments.contract.summary import summarize
from experiments.core.devices import Device
from experiments.core.harness import (
    Case,
    RunContext,
    device_record,
    finite,
    run_cases,
    seed_everything,
    set_threads,
)
from experiments.suite.logging_interval import NOTES_INTERVALS, Config
from experiments.workloads import catalog, data, loops, models

# A difference between intervals counts when the rank test gives p below this.
NOISE_ALPHA = 0.05


def _noise_verdict(variants: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Do the notes' intervals (100 … 2000) differ by more than run-to-run noise?

    Decided by a Kruskal–Wallis test on the raw repeats, not by eye: on a noisy
    machine the largest gap between a handful of medians is often over twice the
    spread by chance alone.
    """
    rows = [v for v in variants if v["every"] in NOTES_INTERVALS]
    if len(rows) < 2 or any(len(v["times_s"]) < 2 for v in rows):
        return None
    medians = [v["summary"]["median"] for v in rows]
    pooled_sd = math.sqrt(statistics.fmean(statistics.variance(v["times_s"]) for v in rows))
    p_value = kruskal_wallis_p([v["times_s"] for v in rows])
    return {
        "intervals": [v["every"] for v in rows],
        "median_spread_s": max(medians) - min(medians),
        "pooled_sd_s": pooled_sd,
        "rule": "kruskal_wallis",
        "p_value": p_value,
        "alpha": NOISE_ALPHA,
        "exceeds_noise": p_value < NOISE_ALPHA,
    }


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    split = data.iris()
    spec = catalog.iris_mlp(config.hidden)
    set_threads(config.threads)
    variants: list[int | None] = [*sorted(set(config.intervals))]
    if config.read_once:
        variants.append(None)
    cases = [
        Case(device, every, f"{device.name}, " + (f"every {every}" if every else "read once"))
        for device in devices
        for every in variants
    ]

    def prepare(case: Case[int | None]) -> Callable[[], list[float]]:
        seed_everything(config.seed)
        where = case.device.torch_device
        model = models.mlp(spec).to(where)
        x, y = split.x_train.to(where), split.y_train.to(where)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
        every = case.variant
        if every is None:
            return lambda: loops.train_reading_once(model, x, y, optimizer, config.epochs)
        return lambda: loops.train_recording_every(model, x, y, optimizer, config.epochs, every)

    runs = run_cases(
        cases,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        progress=ctx.progress,
        what=f"logging_interval: Iris, {config.epochs} epochs",
    )
    per_device = []
    for device in devices:
        mine = [r for r in runs if r.device is device]
        rows: list[dict[str, Any]] = []
        for result in mine:
            every = result.case.variant
            losses = result.outputs[-1]
            rows.append(
                {
                    "every": every,
                    "records": config.epochs // every if every else 0,
                    "warmup_s": result.warmup_s,
                    "times_s": result.times_s,
                    "summary": summarize(result.times_s),
                    "final_loss": finite(losses[-1]) if losses else None,
                }
            )
        recorded = [r for r in rows if r["every"]]
        xs = [float(r["records"]) for r in recorded for _ in r["times_s"]]
        ys = [t for r in recorded for t in r["times_s"]]
        fit = linear_fit(xs, ys) if len(xs) >= 3 else None
        per_device.append(
            {
                **device_record(device),
                "variants": rows,
                "fit": fit,
                "notes_intervals": _noise_verdict(rows),
            }
        )
    return {"epochs": config.epochs, "threads": config.threads, "per_device": per_device}
