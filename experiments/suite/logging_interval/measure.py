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
from typing import Any

import torch
from torch.utils import benchmark

from experiments.contract.distributions import linear_fit, t95
from experiments.contract.statistics import kruskal_wallis
from experiments.contract.summary import summarize
from experiments.core.devices import Device
from experiments.core.harness import (
    Case,
    Chunked,
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
    test = kruskal_wallis([v["times_s"] for v in rows])
    reachable = test.smallest_p < NOISE_ALPHA
    return {
        "intervals": [v["every"] for v in rows],
        "median_spread_s": max(medians) - min(medians),
        "pooled_sd_s": pooled_sd,
        "rule": "kruskal_wallis",
        # None where even a complete separation of the repeats could not reach alpha
        "p_value": test.p_value if reachable else None,
        "smallest_p": test.smallest_p,
        "method": test.method,
        "alpha": NOISE_ALPHA,
        "exceeds_noise": reachable and test.p_value < NOISE_ALPHA,
    }


def microbenchmark(stmt: str, names: dict[str, Any], threads: int) -> dict[str, Any]:
    """One statement timed on its own by torch.utils.benchmark's adaptive timer: runs of many
    calls each until the spread settles; the mean per call with a 95 % t interval over the
    runs (each run's mean is close to normal: it averages thousands of calls)."""
    measurement = benchmark.Timer(stmt=stmt, globals=names, num_threads=threads).adaptive_autorange(
        threshold=0.02, min_run_time=0.5, max_run_time=5.0
    )
    times = [float(t) for t in measurement.times]
    mean = statistics.fmean(times)
    half = (
        t95(len(times) - 1) * statistics.stdev(times) / math.sqrt(len(times))
        if len(times) > 1
        else math.inf
    )
    return {
        "stmt": stmt,
        "runs": len(times),
        "calls_per_run": int(measurement.number_per_run),
        "times_s": times,
        "median_s": float(measurement.median),
        "mean_s": mean,
        "ci95": [mean - half, mean + half] if math.isfinite(half) else None,
    }


def item_cost(device: Device, threads: int) -> dict[str, Any]:
    """What one `.item()` costs on this device, measured directly; on CUDA also one tiny
    kernel launch with a synchronisation (the GPU's part of every notes step)."""
    where = device.torch_device
    loss = torch.tensor(1.0, device=where)
    found = {"item": microbenchmark("loss.item()", {"loss": loss}, threads), "launch_sync": None}
    if device.kind == "cuda":
        found["launch_sync"] = microbenchmark(
            "x.add_(1.0); torch.cuda.synchronize()",
            {"x": torch.zeros(1, device=where), "torch": torch},
            threads,
        )
    return found


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

    chunk = config.chunk_epochs

    def prepare(case: Case[int | None]) -> Chunked[list[float]]:
        seed_everything(config.seed)
        where = case.device.torch_device
        model = models.notes_iris(spec).to(where)
        x, y = split.x_train.to(where), split.y_train.to(where)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
        every = case.variant
        # the clock is read every `chunk` epochs (a multiple of every interval); a warm-up
        # is one chunk: enough for the one-off costs, a tenth of a whole loop's time
        if every is None:
            return Chunked(
                config.epochs // chunk,
                lambda: loops.train_reading_once(model, x, y, optimizer, chunk),
                warmup_chunks=1,
            )
        return Chunked(
            config.epochs // chunk,
            lambda: loops.train_recording_every(model, x, y, optimizer, chunk, every),
            warmup_chunks=1,
        )

    runs = run_cases(
        cases,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        ctx=ctx,
        what=f"logging_interval: Iris, {config.epochs} epochs",
    )
    per_device = []
    for device in devices:
        mine = [r for r in runs if r.device is device]
        rows: list[dict[str, Any]] = []
        for result in mine:
            every = result.case.variant
            losses = [v for part in result.outputs[-1] for v in part]
            rows.append(
                {
                    "every": every,
                    "records": config.epochs // every if every else 0,
                    "warmup_s": result.warmup_s,
                    "times_s": result.times_s,
                    "summary": summarize(result.times_s),
                    "chunk_epoch_s": [t / chunk for t in result.chunks_s],
                    "final_loss": finite(losses[-1]) if losses else None,
                }
            )
        if ctx.timings_only:  # a replica worker: the timings, nothing else
            per_device.append({**device_record(device), "variants": rows})
            continue
        recorded = [r for r in rows if r["every"]]
        xs = [float(r["records"]) for r in recorded for _ in r["times_s"]]
        ys = [t for r in recorded for t in r["times_s"]]
        fit = linear_fit(xs, ys) if len(xs) >= 3 else None
        ctx.progress.update(f"logging_interval | {device.name} | one .item() on its own")
        per_device.append(
            {
                **device_record(device),
                "variants": rows,
                "fit": fit,
                "notes_intervals": _noise_verdict(rows),
                "direct": item_cost(device, config.threads),
            }
        )
    return {"epochs": config.epochs, "threads": config.threads, "per_device": per_device}
