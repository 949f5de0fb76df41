"""How every experiment measures: seeds, threads, clocks, repeats, progress.

The measuring rules (README, "How it is built") live here once, so an experiment
only says what to build and what to time:

- a fresh model and optimizer for every repeat, built outside the clock;
- the clock is `time.perf_counter`, bracketed by the device's synchronize;
- warm-ups first, kept in the result but out of the summaries;
- devices interleaved repeat by repeat, so a slow drift of the machine
  (heat, another process) falls on every device alike;
- progress is printed between repeats, never inside the timed region.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TextIO, TypeVar

import numpy as np
import psutil
import torch

from experiments.contract.summary import BUSY_OTHER_CORES
from experiments.core.devices import Device

T = TypeVar("T")
K = TypeVar("K")


def seed_everything(seed: int) -> None:
    """Python, NumPy and torch (every CUDA device included) from one seed."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def set_threads(threads: int) -> None:
    """Fix torch's intra-op thread count: part of the experiment, so always explicit."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)


def numeric_settings() -> dict[str, Any]:
    """The switches that change what a number means: threads, precision, determinism."""
    cudnn = torch.backends.cudnn
    return {
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "mkl_num_threads": os.environ.get("MKL_NUM_THREADS"),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": bool(cudnn.deterministic),
        "cudnn_benchmark": bool(cudnn.benchmark),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(cudnn.allow_tf32),
    }


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or None where the system offers none yet.

    POSIX keeps them in the kernel. Windows has none: psutil emulates them from the
    processor queue length, sampled every 5 s by a thread that its first call starts, and
    reads (0, 0, 0) until then, which means "not known yet", not "idle". Where Windows'
    performance counters are switched off (an administrator's policy, a trimmed image),
    psutil raises instead: that is "not known" too, never a reason to stop a run."""
    if sys.platform != "win32":
        return [round(x, 2) for x in os.getloadavg()]
    try:
        values = [round(x, 2) for x in psutil.getloadavg()]
    except (RuntimeError, OSError):  # "PdhAddEnglishCounterW failed"
        return None
    return None if not any(values) else values


class LoadMonitor:
    """What else the machine was doing while an experiment ran.

    The load average counts this process too and lags by minutes, so it is
    recorded but not trusted alone: the flag uses the CPU time that other
    processes took during the experiment (system busy time minus ours).
    """

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._start_wall = 0.0
        self._start_busy = 0.0
        self._start_own = 0.0
        self._load_before: list[float] | None = None

    @staticmethod
    def _busy_seconds() -> float:
        times = psutil.cpu_times()
        return float(sum(times)) - float(times.idle) - float(getattr(times, "iowait", 0.0))

    def _own_seconds(self) -> float:
        """CPU time of this process and its descendants (torch.compile's worker processes
        are ours, not "other" load); finished children count once reaped."""
        times = self._process.cpu_times()
        total = float(times.user + times.system + times.children_user + times.children_system)
        for child in self._process.children(recursive=True):
            try:
                child_times = child.cpu_times()
            except psutil.Error:  # exited between listing and reading
                continue
            total += float(child_times.user + child_times.system)
        return total

    def start(self) -> None:
        self._load_before = load_average()
        self._start_wall = time.perf_counter()
        self._start_busy = self._busy_seconds()
        self._start_own = self._own_seconds()

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self._start_wall
        others = (self._busy_seconds() - self._start_busy) - (self._own_seconds() - self._start_own)
        other_cores = max(0.0, others / wall) if wall > 0 else 0.0
        return {
            "load_average_before": self._load_before,
            "load_average_after": load_average(),
            "other_processes_cpu_cores": round(other_cores, 3),
            "busy_machine": other_cores > BUSY_OTHER_CORES,
        }


class Progress:
    """One line per step on stderr: what runs, where, which repeat, time left.

    Called only between timed regions. On a terminal the line is rewritten in
    place; in a log each step gets its own line.
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        if self._tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, text: str) -> None:
        if not self.enabled:
            return
        if self._tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating"
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d} left"


@dataclass(frozen=True)
class Case(Generic[K]):
    """One thing to time on one device: the device and which variant of the workload."""

    device: Device
    variant: K
    label: str


@dataclass(frozen=True)
class Chunked(Generic[T]):
    """A timed body in equal consecutive chunks, the clock read after each: one long loop
    (the notes' 20 000 epochs) then gives many values for a comparison instead of one,
    at no extra cost. `run_chunk` continues where the previous chunk stopped. A warm-up
    runs `warmup_chunks` of them (None: all), enough to pay the one-off costs."""

    chunks: int
    run_chunk: Callable[[], T]
    warmup_chunks: int | None = None


@dataclass
class CaseRepeats(Generic[K, T]):
    """Raw outcome of one case's repeats: every clock reading and what the body returned
    (for a chunked body, a list of the chunks' outputs, and each chunk's time)."""

    case: Case[K]
    warmup_s: list[float] = field(default_factory=list)
    times_s: list[float] = field(default_factory=list)
    warmup_outputs: list[T] = field(default_factory=list)
    outputs: list[T] = field(default_factory=list)
    chunk_s: list[list[float]] = field(default_factory=list)  # per timed repeat

    @property
    def device(self) -> Device:
        return self.case.device

    @property
    def chunks_s(self) -> list[float]:
        """Every timed chunk, repeat after repeat."""
        return [t for repeat in self.chunk_s for t in repeat]


def _stretch(start: float, factor: float) -> None:
    """Busy-wait until the region since `start` has lasted `factor` times as long (a sleep
    is too coarse for sub-millisecond regions)."""
    target = start + (time.perf_counter() - start) * factor
    while time.perf_counter() < target:
        pass


def time_once(device: Device, body: Callable[[], T], slowdown: float = 1.0) -> tuple[float, T]:
    """One synchronised clock reading around `body` (stretched `slowdown` times: Hooks)."""
    device.synchronize()
    start = time.perf_counter()
    output = body()
    device.synchronize()
    if slowdown != 1.0:
        _stretch(start, slowdown)
    return time.perf_counter() - start, output


def time_chunks(
    device: Device, body: Chunked[T], chunks: int | None = None, slowdown: float = 1.0
) -> tuple[float, list[float], list[T]]:
    """Synchronised clock readings after each chunk: the total, each chunk's time, and the
    chunks' outputs (each chunk stretched `slowdown` times: Hooks)."""
    count = body.chunks if chunks is None else chunks
    outputs, laps = [], []
    device.synchronize()
    start = previous = time.perf_counter()
    for _ in range(count):
        outputs.append(body.run_chunk())
        device.synchronize()
        if slowdown != 1.0:
            _stretch(previous, slowdown)
        now = time.perf_counter()
        laps.append(now - previous)
        previous = now
    return previous - start, laps, outputs


def run_cases(
    cases: Sequence[Case[K]],
    prepare: Callable[[Case[K]], Callable[[], T] | Chunked[Any]],
    *,
    warmup: int,
    repeats: int,
    ctx: RunContext,
    what: str,
) -> list[CaseRepeats[K, Any]]:
    """Warm-ups then repeats, cases interleaved; `prepare` builds fresh state untimed and
    returns the body to time (a Chunked body is read chunk by chunk). Progress and the run's
    hooks (a drift checkpoint when one is due) come between timed regions, never in one."""
    if warmup < 1:
        raise ValueError("at least one warm-up is required: first calls pay for lazy loading")
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    results = [CaseRepeats[K, Any](case=case) for case in cases]
    total = (warmup + repeats) * len(cases)
    done = 0
    spent = 0.0
    for index in range(warmup + repeats):
        is_warmup = index < warmup
        for result in results:
            eta = spent / done * (total - done) if done else None
            step = (
                f"warm-up {index + 1}/{warmup}"
                if is_warmup
                else f"repeat {index - warmup + 1}/{repeats}"
            )
            ctx.progress.update(f"{what} | {result.case.label} | {step} | {format_eta(eta)}")
            ctx.hooks.between_repeats()
            began = time.perf_counter()
            body = prepare(result.case)
            laps: list[float] | None = None
            output: Any
            if isinstance(body, Chunked):
                count = body.warmup_chunks if is_warmup else None
                elapsed, laps, output = time_chunks(result.device, body, count, ctx.hooks.slowdown)
            else:
                elapsed, output = time_once(result.device, body, ctx.hooks.slowdown)
            spent += time.perf_counter() - began
            done += 1
            if is_warmup:
                result.warmup_s.append(elapsed)
                result.warmup_outputs.append(output)
            else:
                result.times_s.append(elapsed)
                result.outputs.append(output)
                if laps is not None:
                    result.chunk_s.append(laps)
    return results


def run_repeats(
    devices: Sequence[Device],
    prepare: Callable[[Device], Callable[[], T] | Chunked[Any]],
    *,
    warmup: int,
    repeats: int,
    ctx: RunContext,
    what: str,
) -> list[CaseRepeats[None, Any]]:
    """`run_cases` with one case per device: the same workload everywhere."""
    cases = [Case(device, None, device.name) for device in devices]
    return run_cases(
        cases,
        lambda case: prepare(case.device),
        warmup=warmup,
        repeats=repeats,
        ctx=ctx,
        what=what,
    )


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Hooks:
    """What the run adds around the timed regions of every experiment, set by the runner and
    the measuring scope, never by an experiment: `between_repeats` (a drift checkpoint when
    one is due) and `slowdown`, a factor every timed region is stretched by (1 but in the
    check that the diff finds a known slowdown: STUDY_PLANTED_SLOWDOWN, benchmarks/)."""

    between_repeats: Callable[[], None] = _nothing
    slowdown: float = 1.0


@dataclass(frozen=True)
class RunContext:
    """What the runner hands every experiment besides its config and devices."""

    progress: Progress
    physical_cores: int
    hooks: Hooks = field(default_factory=Hooks)
    # In a replica worker (experiments.core.replicas): measure the timed cases only and skip
    # what the timings do not need (peak rates, operation counts, searches); the data is
    # read for its metrics and never stored
    timings_only: bool = False


def device_record(device: Device) -> dict[str, Any]:
    """Who measured: the first fields of every device's entry in a result file."""
    return {"device": device.name, "device_name": device.describe(), "simulated": device.simulated}


def finite(value: float) -> float | None:
    """A number for a result file: JSON has no NaN or infinity, so a diverged value is null."""
    return value if math.isfinite(value) else None


def error_reason(error: BaseException) -> str:
    """One line for a result file: the exception's type and the first line of its message."""
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


class Skipped(Exception):
    """Raised by an experiment that cannot run here; the message is the reason's identifier
    (e.g. "no_cuda_device"), which the report words."""


class NotHere(Exception):
    """A variant or mode this device cannot run, for a known reason with an identifier
    the report words (e.g. "needs_cuda"), rather than an error."""

    def __init__(self, code: str, **values: float) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def unsupported_reason(error: BaseException) -> dict[str, Any]:
    """The result-file record of why a variant or mode did not run (REASON_SPEC)."""
    if isinstance(error, NotHere):
        return {"code": error.code, **error.values}
    return {"code": "error", "error": error_reason(error)}
