"""Where the time of one tiny training step goes: the notes' Iris step done several ways.

Every variant trains the same network from the same seed and is checked
against the notes' loop (final loss and every parameter within a stated
tolerance), so the timings compare ways of doing one computation, not
different computations. Each variant still calls `loss.item()` every step,
as the notes do, so the differences are in the step itself:

- `model.forward(x)` instead of `model(x)` (skips `nn.Module.__call__` and its hooks);
- `zero_grad(set_to_none=False)`, `foreach` and `fused` optimizer steps;
- the backward pass written out by hand under `torch.inference_mode()` (no autograd);
- `torch.compile`, its compile time kept apart from the steady state;
- on CUDA, the whole step captured once as a CUDA graph and replayed.

The floor that arithmetic alone allows is the step's matrix FLOPs over a
measured matrix-multiply peak of the same device and thread count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from experiments.contract.summary import summarize
from experiments.core.devices import Device
from experiments.core.harness import (
    Case,
    Chunked,
    NotHere,
    RunContext,
    device_record,
    finite,
    run_cases,
    seed_everything,
    set_threads,
    time_once,
    unsupported_reason,
)
from experiments.suite.step_overhead import Config, rungs
from experiments.suite.step_overhead.counting import count_operations
from experiments.workloads import catalog, data, loops, models


class Trainer:
    """One variant's training state on one device; `run(n)` does n steps, returns the losses."""

    def __init__(
        self, run: Callable[[int], list[float]], parameters: Callable[[], list[torch.Tensor]]
    ):
        self.run = run
        self.parameters = parameters


def _eager(
    model: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    set_to_none: bool,
) -> Trainer:
    criterion = nn.CrossEntropyLoss()

    def run(steps: int) -> list[float]:
        losses: list[float] = []
        for _ in range(steps):
            outputs = forward(x)
            loss = criterion(outputs, y)
            optimizer.zero_grad(set_to_none=set_to_none)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    return Trainer(run, lambda: [p.detach() for p in model.parameters()])


def _manual(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float) -> Trainer:
    """Forward, cross-entropy and their gradients by hand; SGD as in-place updates."""
    first, second = models.linear_layers(model)  # fc1, fc2
    with torch.inference_mode():
        w1, b1 = first.weight.detach().clone(), first.bias.detach().clone()
        w2, b2 = second.weight.detach().clone(), second.bias.detach().clone()
        onehot = nn.functional.one_hot(y, second.out_features).to(x.dtype)
    rows = x.shape[0]

    def run(steps: int) -> list[float]:
        losses: list[float] = []
        with torch.inference_mode():
            for _ in range(steps):
                hidden = torch.addmm(b1, x, w1.t())
                active = hidden.relu()
                logits = torch.addmm(b2, active, w2.t())
                log_p = logits.log_softmax(dim=1)
                loss = -(log_p * onehot).sum() / rows
                d_logits = (log_p.exp() - onehot) / rows
                d_hidden = (d_logits @ w2) * (hidden > 0)
                w2.sub_(d_logits.t() @ active, alpha=lr)
                b2.sub_(d_logits.sum(dim=0), alpha=lr)
                w1.sub_(d_hidden.t() @ x, alpha=lr)
                b1.sub_(d_hidden.sum(dim=0), alpha=lr)
                losses.append(loss.item())
        return losses

    return Trainer(run, lambda: [w1, b1, w2, b2])


def _graph(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    device: Device,
) -> Trainer:
    """Capture one whole step (forward, loss, backward, SGD) and replay it.

    Capture needs a few eager warm-up steps, which would train the network; the
    weights are saved before and restored after, so the graph's run starts from
    the same weights as every other variant.
    """
    criterion = nn.CrossEntropyLoss()
    latest: dict[str, torch.Tensor] = {}

    def step() -> None:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        latest["loss"] = loss

    saved = [p.detach().clone() for p in model.parameters()]
    optimizer.zero_grad(set_to_none=True)
    replay = device.capture(step, before_capture=lambda: optimizer.zero_grad(set_to_none=True))
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), saved, strict=True):
            parameter.copy_(value)

    def run(steps: int) -> list[float]:
        losses: list[float] = []
        for _ in range(steps):
            replay()
            losses.append(latest["loss"].item())
        return losses

    return Trainer(run, lambda: [p.detach() for p in model.parameters()])


def build(variant: str, device: Device, split: data.Split, config: Config) -> Trainer:
    """A fresh, seeded trainer for one variant; raises where the device cannot run it."""
    seed_everything(config.seed)
    where = device.torch_device
    model = models.notes_iris(catalog.iris_mlp(config.hidden)).to(where)
    x, y = split.x_train.to(where), split.y_train.to(where)
    sgd = torch.optim.SGD
    if variant == "notes":
        optimizer = sgd(model.parameters(), lr=config.lr)
        return Trainer(
            lambda steps: loops.train_like_the_notes(model, x, y, optimizer, steps),
            lambda: [p.detach() for p in model.parameters()],
        )
    if variant == "forward_call":
        return _eager(model, model.forward, sgd(model.parameters(), lr=config.lr), x, y, True)
    if variant == "keep_grads":
        return _eager(model, model, sgd(model.parameters(), lr=config.lr), x, y, False)
    if variant == "foreach":
        optimizer = sgd(model.parameters(), lr=config.lr, foreach=True)
        return _eager(model, model, optimizer, x, y, True)
    if variant == "fused":
        optimizer = sgd(model.parameters(), lr=config.lr, fused=True)
        return _eager(model, model, optimizer, x, y, True)
    if variant == "manual":
        return _manual(model, x, y, config.lr)
    if variant == "compiled":
        compiled = torch.compile(model, backend=config.compile_backend)
        return _eager(model, compiled, sgd(model.parameters(), lr=config.lr), x, y, True)
    if variant == "compiled_step":
        return Trainer(*rungs.compiled_step(model, x, y, config.lr, config.compile_backend, device))
    if variant == "numpy":
        return Trainer(*rungs.numpy_step(model, x, y, config.lr, device))
    if variant == "cpp":
        return Trainer(*rungs.cpp_step(model, x, y, config.lr, device))
    if variant == "cuda_graph":
        if not device.supports_graphs:
            raise NotHere("needs_cuda")
        return _graph(model, sgd(model.parameters(), lr=config.lr), x, y, device)
    raise ValueError(f"unknown variant {variant!r}")


def measure_peak(device: Device, size: int, tries: int = 5) -> float:
    """Best float32 matmul rate (FLOP/s) of an n×n product on this device and thread count."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device.torch_device)
    b = torch.randn(size, size, generator=generator).to(device.torch_device)
    time_once(device, lambda: a @ b)  # warm-up: library initialisation, allocation
    best = min(time_once(device, lambda: a @ b)[0] for _ in range(tries))
    return 2 * size**3 / best


def _max_difference(ours: list[torch.Tensor], reference: list[torch.Tensor]) -> float:
    return max(
        float((mine.detach().cpu() - theirs.detach().cpu()).abs().max())
        for mine, theirs in zip(ours, reference, strict=True)
    )


def hook_check(hidden: int) -> dict[str, bool]:
    """Knowledge point 4: only model(x) goes through __call__ and runs forward hooks."""
    model = models.notes_iris(catalog.iris_mlp(hidden))
    calls: list[str] = []
    model.register_forward_hook(lambda module, inputs, output: calls.append("hook"))
    x = torch.zeros(1, 4)
    model(x)
    after_call = len(calls)
    forward: Callable[[torch.Tensor], torch.Tensor] = model.forward
    forward(x)
    return {"model_call_runs_hook": after_call == 1, "forward_runs_hook": len(calls) > after_call}


def _probe(
    variant: str, device: Device, split: data.Split, config: Config
) -> tuple[float | None, dict[str, Any] | None]:
    """Two steps on a throwaway trainer: the first-call time (building it included: a C++
    compile or a torch.compile happens here, once per process) or why not."""
    try:
        began = time.perf_counter()
        trainer = build(variant, device, split, config)
        built = time.perf_counter() - began
        elapsed, _ = time_once(device, lambda: trainer.run(2))
    except Exception as error:  # a variant this device or build cannot run is a finding
        return None, unsupported_reason(error)
    return built + elapsed, None


def _timings(devices: list[Device], config: Config, by_case: dict[Any, Any]) -> dict[str, Any]:
    """What the metrics read of a replica's run: each variant's per-step chunk times."""
    chunk = config.chunk_steps
    per_device = [
        {
            "device": d.name,
            "variants": [
                {"variant": v, "chunk_step_s": [t / chunk for t in r.chunks_s]}
                for v in config.variants
                if (r := by_case.get((d.name, v)))
            ],
        }
        for d in devices
    ]
    return {"per_device": per_device}


def run(config: Config, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    split = data.iris()
    set_threads(config.threads)
    flops = catalog.iris_mlp(config.hidden).matmul_flops(split.rows)
    probes: dict[tuple[str, str], tuple[float | None, dict[str, Any] | None]] = {}
    for device in devices:
        for variant in config.variants:
            ctx.progress.update(f"step_overhead | {device.name}, {variant} | first call")
            probes[device.name, variant] = _probe(variant, device, split, config)
    cases = [
        Case(device, variant, f"{device.name}, {variant}")
        for device in devices
        for variant in config.variants
        if probes[device.name, variant][1] is None
    ]
    trainers: dict[tuple[str, str], Trainer] = {}

    chunk = config.chunk_steps

    def prepare(case: Case[str]) -> Chunked[list[float]]:
        trainer = build(case.variant, case.device, split, config)
        trainers[case.device.name, case.variant] = trainer
        # the clock is read every `chunk` steps: steps / chunk values per repeat
        return Chunked(config.steps // chunk, lambda: trainer.run(chunk))

    runs = run_cases(
        cases,
        prepare,
        warmup=config.warmup,
        repeats=config.repeats,
        ctx=ctx,
        what=f"step_overhead: {config.steps} steps",
    )
    by_case = {(r.device.name, r.case.variant): r for r in runs}
    if ctx.timings_only:  # a replica worker: the timings, nothing else
        return _timings(devices, config, by_case)
    per_device = []
    for device in devices:
        ctx.progress.update(f"step_overhead | {device.name} | peak FLOP/s and operation counts")
        peak = measure_peak(device, config.peak_size)
        reference = by_case.get((device.name, "notes"))
        reference_params = trainers[device.name, "notes"].parameters() if reference else []
        reference_loss = reference.outputs[-1][-1][-1] if reference else math.nan
        rows: list[dict[str, Any]] = []
        for variant in config.variants:
            first_call, unsupported = probes[device.name, variant]
            result = by_case.get((device.name, variant))
            if result is None:
                rows.append(
                    {
                        "variant": variant,
                        "unsupported": unsupported,
                        "first_call_s": None,
                        "warmup_s": [],
                        "step_s": [],
                        "summary": summarize([]),
                        "chunk_steps": config.chunk_steps,
                        "chunk_step_s": [],
                        "final_loss": None,
                        "loss_difference": None,
                        "max_parameter_difference": None,
                        "equivalent": None,
                        "ops_per_step": None,
                        "kernels_per_step": None,
                        "syncs_per_step": None,
                    }
                )
                continue
            trainer = trainers[device.name, variant]
            final_loss = result.outputs[-1][-1][-1]  # last repeat, last chunk, last step
            loss_difference = abs(final_loss - reference_loss)
            parameter_difference = _max_difference(trainer.parameters(), reference_params)
            counts = count_operations(
                build(variant, device, split, config).run, device, config.profile_steps
            )
            step_s = [t / config.steps for t in result.times_s]
            rows.append(
                {
                    "variant": variant,
                    "unsupported": None,
                    "first_call_s": first_call,
                    "warmup_s": [t / config.steps for t in result.warmup_s],
                    "step_s": step_s,
                    "summary": summarize(step_s),
                    "chunk_steps": chunk,
                    "chunk_step_s": [t / chunk for t in result.chunks_s],
                    "final_loss": finite(final_loss),
                    "loss_difference": finite(loss_difference),
                    "max_parameter_difference": parameter_difference,
                    "equivalent": bool(
                        loss_difference <= config.loss_tolerance
                        and parameter_difference <= config.param_tolerance
                    ),
                    **counts,
                }
            )
        cpp_row = next((r for r in rows if r["variant"] == "cpp" and r["step_s"]), None)
        per_device.append(
            {
                **device_record(device),
                "peak_flops": peak,
                "floor_step_s": flops / peak,
                "variants": rows,
                # the C++ rung's call with an empty body: Python's share of that rung
                "cpp_call_s": rungs.cpp_call_seconds(
                    models.notes_iris(catalog.iris_mlp(config.hidden)),
                    split.x_train,
                    split.y_train,
                )
                if cpp_row
                else None,
            }
        )
    return {
        "steps": config.steps,
        "threads": config.threads,
        "flops_per_step": flops,
        "hooks": hook_check(config.hidden),
        "per_device": per_device,
    }
