"""Experiment 2 of the notes (001): how often to call `loss.item()`, and what each call costs."""

from __future__ import annotations

import dataclasses
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
    # the clock is read every this many epochs; a multiple of every interval
    chunk_epochs: int = setting(2000, low=1, high=10_000_000)
    warmup: int = setting(1, low=1, high=100)  # discarded first chunks per interval and device
    repeats: int = setting(3, low=1, high=1000)  # timed runs per interval and device
    threads: int = setting(1, low=1, high=1024)  # torch intra-op threads on the CPU

    def check(self) -> None:
        if len(set(self.intervals)) < 2:
            raise ValueError("intervals needs at least two different intervals")
        if max(self.intervals) > self.epochs:
            raise ValueError(f"an interval longer than epochs ({self.epochs}) records nothing")
        if self.epochs % self.chunk_epochs:
            raise ValueError(
                f"chunk_epochs ({self.chunk_epochs}) must divide epochs ({self.epochs})"
            )
        uneven = [k for k in self.intervals if self.chunk_epochs % k]
        if uneven:
            raise ValueError(
                f"chunk_epochs ({self.chunk_epochs}) must be a multiple of every interval "
                f"(not of {', '.join(map(str, uneven))})"
            )


MICROBENCHMARK_SPEC = {
    "stmt": str,
    "runs": int,
    "calls_per_run": int,
    "times_s": TIMINGS,
    "median_s": NUMBER,
    "mean_s": NUMBER,
    "ci95": Nullable([NUMBER]),
}

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
                            "chunk_epoch_s": TIMINGS,
                            "final_loss": OPT_NUMBER,
                        }
                    ]
                ),
                fit=Nullable(FIT_SPEC),
                # one .item() (and on CUDA one launch + sync) timed on its own
                direct=Nullable(
                    {"item": MICROBENCHMARK_SPEC, "launch_sync": Nullable(MICROBENCHMARK_SPEC)}
                ),
                notes_intervals=Nullable(
                    {
                        "intervals": [int],
                        "median_spread_s": NUMBER,
                        "pooled_sd_s": NUMBER,
                        # which rule decided exceeds_noise: "kruskal_wallis" (p below alpha) or,
                        # in files from before that test, "spread_over_2sd"
                        "rule": str,
                        "p_value?": OPT_NUMBER,  # None: alpha unreachable (smallest_p)
                        "smallest_p?": NUMBER,
                        "method?": str,  # exact or permutation (the p of older files: chi²)
                        "alpha?": NUMBER,
                        "exceeds_noise": bool,
                    }
                ),
            )
        ]
    ),
}


def _variant_metric(v: dict[str, Any]) -> tuple[str, str, dict[str, Any], list[float]]:
    """Per-epoch time of each chunk of the loop: tens of values per interval for a diff."""
    values = v["chunk_epoch_s"]
    if v["every"]:
        return f"every/{v['every']}", N_("every {every}, per epoch"), {"every": v["every"]}, values
    return "read_once", N_("read once, per epoch"), {}, values


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(data["per_device"], lambda e: [_variant_metric(v) for v in e["variants"]])


# Loops longer than this many epochs take seconds per value: a worker would add more time
# than the run itself spends on them (the default profile's 20 000), so they are measured in
# the run's own process only.
LONGEST_REPLICATED_EPOCHS = 2000


def replica(config: Config) -> Config | None:
    """One more process's values: one chunk of every interval, after one chunk of warm-up;
    none for the notes' full-length loop."""
    if config.epochs > LONGEST_REPLICATED_EPOCHS:
        return None
    return dataclasses.replace(config, epochs=config.chunk_epochs, warmup=1, repeats=1)


DECLARATION = Declaration(
    name="logging_interval",
    order=20,
    title=N_("Logging interval: what each loss.item() costs"),
    config=Config,
    profiles={
        "default": Config(),
        "quick": Config(epochs=2000, chunk_epochs=200, intervals=(1, 10, 100, 200)),
        "smoke": Config(epochs=200, chunk_epochs=100, intervals=(1, 10, 100)),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
    replica=replica,
)
