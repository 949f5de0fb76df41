"""Experiment 2 of the notes: how often to call `loss.item()`, and what each call costs.

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
from dataclasses import dataclass
from typing import Any

import torch

from experiments import workloads
from experiments.devices import Device
from experiments.harness import Case, RunContext, run_cases, seed_everything, set_threads
from experiments.summary import kruskal_wallis_p, linear_fit, summarize

TITLE = "Logging interval: what each loss.item() costs"

# The intervals of the notes' table (001): every 100, 200, 1000 and 2000 epochs.
NOTES_INTERVALS = (100, 200, 1000, 2000)


@dataclass(frozen=True)
class Config:
    seed: int = 0  # seeds every repeat: same start weights for every interval and device
    epochs: int = 20_000  # the notes' 20 000 full-batch epochs
    intervals: tuple[int, ...] = (1, 10, 100, 200, 1000, 2000)  # record every k epochs
    read_once: bool = True  # also time the loop with no .item() inside (read once at the end)
    lr: float = 0.01  # the notes' SGD learning rate
    hidden: int = 10  # the notes' 4-10-3 network
    warmup: int = 1  # discarded first runs per interval and device
    repeats: int = 3  # timed runs per interval and device, all interleaved
    threads: int = 1  # torch intra-op threads on the CPU

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.repeats < 1 or self.warmup < 1 or self.threads < 1:
            raise ValueError("epochs, repeats, warmup and threads must each be at least 1")
        if len(set(self.intervals)) < 2 or min(self.intervals) < 1:
            raise ValueError("intervals needs at least two different positive intervals")
        if max(self.intervals) > self.epochs:
            raise ValueError(f"an interval longer than epochs ({self.epochs}) records nothing")


PROFILES: dict[str, Config] = {
    "default": Config(),
    "quick": Config(epochs=2000, intervals=(1, 10, 100, 1000)),
}


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
        "p_value": p_value,
        "alpha": NOISE_ALPHA,
        "exceeds_noise": p_value < NOISE_ALPHA,
    }


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    data = workloads.iris()
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
        model = workloads.iris_mlp(config.hidden).to(where)
        x, y = data.x_train.to(where), data.y_train.to(where)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
        every = case.variant
        if every is None:
            return lambda: workloads.train_reading_once(model, x, y, optimizer, config.epochs)
        return lambda: workloads.train_recording_every(model, x, y, optimizer, config.epochs, every)

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
                    "final_loss": losses[-1] if losses and math.isfinite(losses[-1]) else None,
                }
            )
        recorded = [r for r in rows if r["every"]]
        xs = [float(r["records"]) for r in recorded for _ in r["times_s"]]
        ys = [t for r in recorded for t in r["times_s"]]
        fit = linear_fit(xs, ys) if len(xs) >= 3 else None
        per_device.append(
            {
                "device": device.name,
                "device_name": device.describe(),
                "simulated": device.simulated,
                "variants": rows,
                "fit": fit,
                "notes_intervals": _noise_verdict(rows),
            }
        )
    return {"epochs": config.epochs, "threads": config.threads, "per_device": per_device}
