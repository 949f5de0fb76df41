"""Measuring experiment 4 of the notes: how large a batch fits, how fast each size trains,
and what larger batches cost in training quality.

The notes' rule: start at 16, double until out-of-memory or worse training,
then use about 0.8 × the largest size that fits. Here, per device:

- speed: samples per second and time per epoch at 16, 32, … on the MNIST MLP
  (synthetic MNIST-shaped data), timed like every experiment;
- memory: the peak per batch size (on a GPU the allocator's peak, on a CPU the
  tensor bytes of the step), fitted as peak(B) = a + b·B;
- the limit: on a GPU a real search that catches `torch.OutOfMemoryError`,
  frees memory outside the `except` block and may run under a memory fraction;
  on a CPU, where running out of memory gets the process killed, a prediction
  from the fit against a budget (a share of the available RAM), confirmed by
  one real step at the recommended size;
- quality: loss and accuracy after a fixed number of samples on scikit-learn's
  digits (real data that ships offline), against batch size.
"""

from __future__ import annotations

import gc
import math
from typing import Any

import psutil
import torch
from torch import nn

from experiments.contract.distributions import linear_fit
from experiments.contract.summary import summarize
from experiments.core import memory
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
from experiments.suite.batch_size_scaling import Config
from experiments.workloads import catalog, data, loops, models


def batch_sizes(config: Config) -> list[int]:
    sizes = [config.start]
    while sizes[-1] * 2 <= config.max_batch:
        sizes.append(sizes[-1] * 2)
    return sizes


def _model_and_data(
    device: Device, config: Config, batch: int, images: data.Split | None = None
) -> tuple[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    spec = catalog.MODELS[config.model]
    seed_everything(config.seed)
    where = device.torch_device
    model = models.mlp(spec).to(where)
    optimizer = models.optimizer(config.optimizer, model.parameters(), config.lr)
    if images is not None:  # the user's real data, the first `batch` training samples
        return model, optimizer, images.x_train[:batch].to(where), images.y_train[:batch].to(where)
    # Made on the device itself: a search's huge batches must never pass through host RAM.
    samples = data.synthetic(spec, batch, config.seed, device=where)
    return model, optimizer, samples.x_train, samples.y_train


def step_peak_bytes(device: Device, config: Config, batch: int) -> int:
    """Memory one training step at this batch needs: the allocator's peak on a GPU, the
    tensor bytes of every bucket elsewhere. Raises torch.OutOfMemoryError where it does."""
    device.synchronize()
    baseline = device.memory_allocated() or 0
    device.reset_peak_memory_stats()
    model, optimizer, x, y = _model_and_data(device, config, batch)
    measured = memory.measure_step(model, optimizer, x, y)
    device.synchronize()
    peak = device.max_memory_allocated()
    needed = (peak - baseline) if peak is not None else sum(measured.values())
    with device.hold(needed):  # the stand-in raises here past its budget
        pass
    return needed


def _fits(device: Device, config: Config, batch: int) -> bool:
    out_of_memory = False
    try:
        step_peak_bytes(device, config, batch)
    except torch.OutOfMemoryError:
        out_of_memory = True
    # Outside the except block: the exception and the frames holding the failed step's
    # tensors are gone, so collecting and emptying the cache can actually free them. A step
    # that fitted freed its tensors on return; only a failed one can leave a cycle behind.
    if out_of_memory:
        gc.collect()
    device.empty_cache()
    return not out_of_memory


def search_largest(device: Device, config: Config) -> dict[str, Any]:
    """Double from `start` until a step runs out of memory, then bisect to the exact limit."""
    device.set_memory_fraction(config.memory_fraction)
    baseline = device.memory_allocated() or 0
    trace: list[dict[str, Any]] = []

    def fits(batch: int) -> bool:
        result = _fits(device, config, batch)
        trace.append({"batch": batch, "fits": result})
        return result

    try:
        good, bad = 0, None
        batch = config.start
        while batch <= config.search_ceiling:
            if not fits(batch):
                bad = batch
                break
            good, batch = batch, batch * 2
        if bad is not None:
            while bad - good > 1:
                middle = (good + bad) // 2
                good, bad = (middle, bad) if fits(middle) else (good, middle)
    finally:
        device.set_memory_fraction(1.0)
    leaked = (device.memory_allocated() or 0) - baseline
    return {
        "largest_batch": good or None,
        "reached_ceiling": bad is None,
        "search": trace,
        "leaked_bytes": leaked,
    }


def _limit(device: Device, config: Config, fit: dict[str, Any]) -> dict[str, Any]:
    if device.can_search_memory:
        found = search_largest(device, config)
        largest = found["largest_batch"]
        return {
            "method": "search",
            "budget_bytes": None,
            "memory_fraction": config.memory_fraction,
            **found,
            "recommended_batch": math.floor(largest * config.recommend_share) if largest else None,
            "predicted_largest_batch": None,
            "confirmed_batch": None,
            "confirmed_peak_bytes": None,
            "predicted_peak_bytes": None,
        }
    budget = config.memory_budget_bytes or int(
        psutil.virtual_memory().available * config.budget_share
    )
    slope, intercept = fit["slope"], fit["intercept"]
    # (the small epsilon keeps an exact fit's 299.99999… from rounding down to 299)
    largest = math.floor((budget - intercept) / slope + 1e-6) if slope > 0 else None
    recommended = math.floor(largest * config.recommend_share) if largest else None
    confirmed = min(recommended, config.confirm_cap) if recommended else None
    peak = step_peak_bytes(device, config, confirmed) if confirmed else None
    return {
        "method": "prediction",
        "budget_bytes": budget,
        "memory_fraction": None,
        "largest_batch": None,
        "reached_ceiling": False,
        "search": [],
        "leaked_bytes": None,
        "predicted_largest_batch": largest,
        "recommended_batch": recommended,
        "confirmed_batch": confirmed,
        "confirmed_peak_bytes": peak,
        "predicted_peak_bytes": round(intercept + slope * confirmed) if confirmed else None,
    }


def real_images(config: Config) -> data.Split | None:
    """The user's local copy of the model's data set, if `data_dir` names one."""
    if not config.data_dir:
        return None
    kind = catalog.REAL_DATA.get(config.model)
    if kind is None:
        raise ValueError(f"data_dir is set but {config.model} has no real data set")
    images = data.from_files(kind, config.data_dir)
    if images.rows < config.samples_per_epoch:
        raise ValueError(f"{images.path}: fewer training samples than samples_per_epoch")
    return images


def chunks_for(steps: int) -> int:
    """Clock readings per epoch: 8 where the steps allow (batch sizes are powers of two)."""
    return next(c for c in (8, 4, 2, 1) if steps % c == 0)


def _speed(
    devices: list[Device], config: Config, ctx: RunContext, images: data.Split | None
) -> dict[str, list[Any]]:
    sizes = batch_sizes(config)
    cases = [Case(d, b, f"{d.name}, batch {b}") for d in devices for b in sizes]
    criterion = nn.CrossEntropyLoss()

    def prepare(case: Case[int]) -> Chunked[list[float]]:
        batch = case.variant
        model, optimizer, x, y = _model_and_data(
            case.device, config, config.samples_per_epoch, images
        )
        steps = config.samples_per_epoch // batch
        chunks = chunks_for(steps)
        size = steps // chunks
        position = [0]

        def chunk() -> list[float]:
            # the epoch's steps, read by the clock every `size` steps
            losses = []
            start = position[0]
            for index in range(start, start + size):
                inputs = x[index * batch : (index + 1) * batch]
                loss = criterion(model(inputs), y[index * batch : (index + 1) * batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            position[0] = (start + size) % steps
            return losses

        return Chunked(chunks, chunk)

    runs = run_cases(
        cases,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        ctx=ctx,
        what="batch_size_scaling: one epoch",
    )
    points: dict[str, list[Any]] = {d.name: [] for d in devices}
    for result in runs:
        batch = result.case.variant
        steps = config.samples_per_epoch // batch
        summary = summarize(result.times_s)
        points[result.device.name].append(
            {
                "batch": batch,
                "steps": steps,
                "warmup_s": result.warmup_s,
                "epoch_s": result.times_s,
                "summary": summary,
                "chunk_step_s": [t / (steps // chunks_for(steps)) for t in result.chunks_s],
                "samples_per_s": steps * batch / summary["median"],
            }
        )
    return points


def _quality(config: Config, ctx: RunContext) -> dict[str, Any]:
    """Same number of samples seen, different batch sizes: fewer, smoother steps."""
    split = data.digits()
    assert split.x_test is not None and split.y_test is not None
    xt, yt, xv, yv = split.x_train, split.y_train, split.x_test, split.y_test
    spec = catalog.MODELS["digits_mlp"]
    budget = config.quality_epochs * len(xt)
    points = []
    for batch in config.quality_batches:
        ctx.progress.update(f"batch_size_scaling | digits | batch {batch}")
        seed_everything(config.seed)
        model = models.mlp(spec)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.quality_lr)
        order = torch.Generator().manual_seed(config.seed)
        steps = max(1, budget // batch)
        permutation = torch.randperm(len(xt), generator=order)
        cursor = 0
        loss = torch.tensor(math.nan)
        for _ in range(steps):
            if cursor + batch > len(xt):
                permutation, cursor = torch.randperm(len(xt), generator=order), 0
            index = permutation[cursor : cursor + batch]
            cursor += batch
            loss = nn.functional.cross_entropy(model(xt[index]), yt[index])
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
        with torch.no_grad():
            test_loss = float(nn.functional.cross_entropy(model(xv), yv))
        points.append(
            {
                "batch": batch,
                "steps": steps,
                "test_loss": finite(test_loss),
                "test_accuracy": loops.accuracy(model, xv, yv),
            }
        )
    return {
        "dataset": {"name": split.kind, "train_rows": len(xt), "test_rows": len(xv)},
        "widths": list(spec.widths),
        "sample_budget": budget,
        "lr": config.quality_lr,
        "points": points,
    }


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    threads = config.threads or ctx.physical_cores
    set_threads(threads)
    images = real_images(config)
    speed = _speed(devices, config, ctx, images)
    if ctx.timings_only:  # a replica worker: the timings, nothing else
        return {"per_device": [{**device_record(d), "points": speed[d.name]} for d in devices]}
    per_device = []
    for device in devices:
        ctx.progress.update(f"batch_size_scaling | {device.name} | peak memory per batch size")
        for point in speed[device.name]:
            point["peak_bytes"] = step_peak_bytes(device, config, point["batch"])
        fit = linear_fit(
            [p["batch"] for p in speed[device.name]], [p["peak_bytes"] for p in speed[device.name]]
        )
        ctx.progress.update(f"batch_size_scaling | {device.name} | largest batch that fits")
        per_device.append(
            {
                **device_record(device),
                "points": speed[device.name],
                "memory_fit": fit,
                "limit": _limit(device, config, fit),
            }
        )
    return {
        "model": config.model,
        "optimizer": config.optimizer,
        "samples_per_epoch": config.samples_per_epoch,
        "data_source": images.source if images else {"kind": "synthetic", "path": None},
        "threads": threads,
        "per_device": per_device,
        "quality": _quality(config, ctx),
    }
