"""The measuring rules: synchronised clock, interleaving, warm-ups kept apart, progress outside."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest

from experiments.core.devices import CpuDevice, Device, SimulatedDevice
from experiments.core.harness import Progress, run_repeats


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
        progress=RecordingProgress(events),
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
    # each reading is a clock difference around the body alone: a body that sleeps 20 ms
    # reads at least that, and the untimed preparation's sleep is not in it
    slow = run_repeats(
        [CpuDevice()],
        _sleeping_prepare,
        warmup=1,
        repeats=1,
        progress=Progress(enabled=False),
        what="t",
    )[0]
    assert 0.02 <= slow.times_s[0] < 0.02 + 0.5 * PREPARE_SLEEP_S


PREPARE_SLEEP_S = 0.2


def _sleeping_prepare(device: Device) -> Callable[[], None]:
    time.sleep(PREPARE_SLEEP_S)  # untimed: building the model and data
    return lambda: time.sleep(0.02)


def test_a_warm_up_is_required() -> None:
    with pytest.raises(ValueError, match="warm-up"):
        run_repeats(
            [CpuDevice()],
            lambda d: lambda: None,
            warmup=0,
            repeats=1,
            progress=Progress(enabled=False),
            what="t",
        )


def test_progress_shows_step_and_estimate_in_a_log() -> None:
    stream = io.StringIO()
    run_repeats(
        [CpuDevice()],
        lambda d: lambda: None,
        warmup=1,
        repeats=2,
        progress=Progress(stream=stream),
        what="iris",
    )
    lines = stream.getvalue().splitlines()
    assert lines[0] == "iris | cpu | warm-up 1/1 | estimating"
    assert lines[1].startswith("iris | cpu | repeat 1/2 | 0:0")
    assert lines[2].startswith("iris | cpu | repeat 2/2 | 0:0")
