"""The measuring rules: synchronised clock, interleaving, warm-ups kept apart, progress outside."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest

from experiments.core.devices import CpuDevice, Device, SimulatedDevice
from experiments.core.harness import (
    Chunked,
    Hooks,
    Progress,
    RunContext,
    run_repeats,
    time_chunks,
)

QUIET = RunContext(Progress(enabled=False), physical_cores=1)


class RecordingProgress(Progress):
    def __init__(self, events: list[str]) -> None:
        super().__init__(stream=io.StringIO())
        self.events = events

    def update(self, text: str) -> None:
        self.events.append("progress")
        super().update(text)


def test_devices_interleave_and_every_timing_is_synchronised() -> None:
    events: list[str] = []
    sim = SimulatedDevice()

    def prepare(device: Device) -> Callable[[], str]:
        events.append(f"prepare {device.name}")

        def body() -> str:
            events.append(f"body {device.name}")
            return device.name

        return body

    runs = run_repeats(
        [CpuDevice(), sim],
        prepare,
        warmup=1,
        repeats=2,
        ctx=RunContext(RecordingProgress(events), 1),
        what="t",
    )
    assert [e for e in events if e.startswith("body")] == [
        "body cpu",
        "body sim:0",
        "body cpu",
        "body sim:0",
        "body cpu",
        "body sim:0",
    ]
    # progress is written before the untimed preparation, never between clock readings
    for index, event in enumerate(events):
        if event.startswith("body"):
            assert events[index - 1].startswith("prepare")
    assert sim.synchronizations == 2 * 3  # before and after each of 1 warm-up + 2 repeats
    cpu_run, sim_run = runs
    assert len(cpu_run.warmup_s) == 1 and len(cpu_run.times_s) == 2
    assert sim_run.outputs == ["sim:0", "sim:0"]


class FakeClock:
    """time.perf_counter that moves only when told (and by a tick per reading, so that a
    busy-wait ends): readings become exact, whatever the machine's load."""

    TICK = 1e-6

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.TICK
        return self.now

    def spend(self, seconds: float) -> None:
        self.now += seconds


def test_a_reading_is_the_body_alone_stretched_by_the_planted_slowdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Preparation (10 s of fake time) stays outside the clock; the body's 1 s is read as 1 s,
    or 3 s under a planted 3x; a drift checkpoint comes before every warm-up and repeat."""
    clock = FakeClock()
    monkeypatch.setattr(time, "perf_counter", clock)
    calls: list[str] = []

    def prepare(device: Device) -> Callable[[], None]:
        calls.append("prepare")
        clock.spend(10.0)
        return lambda: clock.spend(1.0)

    for slowdown in (1.0, 3.0):
        calls.clear()
        hooks = Hooks(between_repeats=lambda: calls.append("checkpoint"), slowdown=slowdown)
        ctx = RunContext(Progress(enabled=False), physical_cores=1, hooks=hooks)
        (run,) = run_repeats([CpuDevice()], prepare, warmup=1, repeats=2, ctx=ctx, what="t")
        assert calls == ["checkpoint", "prepare"] * 3
        for reading in [*run.warmup_s, *run.times_s]:
            assert reading == pytest.approx(slowdown, abs=1e-4)
    chunked = Chunked(chunks=2, run_chunk=lambda: clock.spend(1.0))
    total, laps, _ = time_chunks(CpuDevice(), chunked, slowdown=2.0)
    assert laps == [pytest.approx(2.0, abs=1e-4)] * 2 and total == pytest.approx(4.0, abs=1e-4)


def test_a_warm_up_is_required() -> None:
    with pytest.raises(ValueError, match="warm-up"):
        run_repeats(
            [CpuDevice()],
            lambda d: lambda: None,
            warmup=0,
            repeats=1,
            ctx=QUIET,
            what="t",
        )


def test_progress_shows_step_and_estimate_in_a_log() -> None:
    stream = io.StringIO()
    run_repeats(
        [CpuDevice()],
        lambda d: lambda: None,
        warmup=1,
        repeats=2,
        ctx=RunContext(Progress(stream=stream), 1),
        what="iris",
    )
    lines = stream.getvalue().splitlines()
    assert lines[0] == "iris | cpu | warm-up 1/1 | estimating"
    assert lines[1].startswith("iris | cpu | repeat 1/2 | 0:0")
    assert lines[2].startswith("iris | cpu | repeat 2/2 | 0:0")
