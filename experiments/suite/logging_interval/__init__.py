"""Experiment 2 of the notes (001): how often to call `loss.item()`, and what each call costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.settings import SEED, Settings, setting
from experiments.contract.shapes import (
    FIT_SPEC,
    NUMBER,
    OPT_NUMBER,
    SUMMARY_SPEC,
    TIMINGS,
    NonEmpty,
    Nullable,
    device_entry,
)

# The intervals of the notes' table (001): every 100, 200, 1000 and 2000 epochs.
NOTES_INTERVALS = (100, 200, 1000, 2000)


@dataclass(frozen=True)
class Config(Settings):
    seed: int = setting(0, **SEED)  # seeds every repeat: same start weights everywhere
    epochs: int = setting(20_000, low=1, high=10_000_000)  # the notes' 20 000 epochs
    intervals: tuple[int, ...] = setting((1, 10, 100, 200, 1000, 2000), low=1)  # every k epochs
    read_once: bool = True  # also time the loop with no .item() inside (read once at the end)
    lr: float = setting(0.01, low=0, low_open=True, high=10)  # the notes' SGD learning rate
    hidden: int = setting(10, low=1, high=4096)  # the notes' 4-10-3 network
    warmup: int = setting(1, low=1, high=100)  # discarded first runs per interval and device
    repeats: int = setting(3, low=1, high=1000)  # timed runs per interval and device
    threads: int = setting(1, low=1, high=1024)  # torch intra-op threads on the CPU

    def check(self) -> None:
        if len(set(self.intervals)) < 2:
            raise ValueError("intervals needs at least two different intervals")
        if max(self.intervals) > self.epochs:
            raise ValueError(f"an interval longer than epochs ({self.epochs}) records nothing")


DATA_SPEC = {
    "epochs": int,
    "threads": int,
    "per_device": NonEmpty(
        [
            device_entry(
                variants=NonEmpty(
                    [
                        {
                            "every": (int, None),
                            "records": int,
                            "warmup_s": TIMINGS,
                            "times_s": TIMINGS,
                            "summary": SUMMARY_SPEC,
                            "final_loss": OPT_NUMBER,
                        }
                    ]
                ),
                fit=Nullable(FIT_SPEC),
                notes_intervals=Nullable(
                    {
                        "intervals": [int],
                        "median_spread_s": NUMBER,
                        "pooled_sd_s": NUMBER,
                        # which rule decided exceeds_noise: "kruskal_wallis" (p below alpha) or,
                        # in files from before that test, "spread_over_2sd"
                        "rule": str,
                        "p_value?": NUMBER,
                        "alpha?": NUMBER,
                        "exceeds_noise": bool,
                    }
                ),
            )
        ]
    ),
}


def _variant_metric(v: dict[str, Any]) -> tuple[str, str, dict[str, Any], list[float]]:
    if v["every"]:
        return f"every/{v['every']}", N_("every {every}"), {"every": v["every"]}, v["times_s"]
    return "read_once", N_("read once"), {}, v["times_s"]


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(data["per_device"], lambda e: [_variant_metric(v) for v in e["variants"]])


DECLARATION = Declaration(
    name="logging_interval",
    order=20,
    title=N_("Logging interval: what each loss.item() costs"),
    config=Config,
    profiles={
        "default": Config(),
        "quick": Config(epochs=2000, intervals=(1, 10, 100, 1000)),
        "smoke": Config(epochs=200, intervals=(1, 10, 100)),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
)
