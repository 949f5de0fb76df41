"""Experiment 1 of the notes (000, 001): the same tiny Iris training loop on the CPU and on
each GPU, then a crossover sweep that grows the work until a GPU stops losing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.settings import SEED, Settings, setting
from experiments.contract.shapes import (
    NUMBER,
    OPT_NUMBER,
    SUMMARY_SPEC,
    TIMINGS,
    NonEmpty,
    device_entry,
)


@dataclass(frozen=True)
class Config(Settings):
    # seeds torch/NumPy/random before every repeat: same start weights everywhere
    seed: int = setting(0, **SEED)
    epochs: int = setting(20_000, low=1, high=10_000_000)  # the notes' 20 000 full-batch epochs
    lr: float = setting(0.01, low=0, low_open=True, high=10)  # the notes' SGD learning rate
    hidden: int = setting(10, low=1, high=4096)  # Linear(4, hidden) -> ReLU -> Linear(hidden, 3)
    split_seed: int = setting(42, **SEED)  # train_test_split(random_state=42), as in the notes
    test_size: float = setting(0.2, low=0.05, high=0.95)  # the notes' 80/20 split
    warmup: int = setting(1, low=1, high=100)  # discarded first runs per device
    repeats: int = setting(3, low=1, high=1000)  # measured runs per device, interleaved
    # the clock is read every this many epochs: epochs / chunk_epochs values per repeat
    chunk_epochs: int = setting(2000, low=1, high=10_000_000)
    threads: int = setting(1, low=1, high=1024)  # torch threads for the Iris loop
    curve_every: int = setting(10, low=1)  # keep every k-th epoch's loss (all are hashed)
    crossover_sizes: tuple[int, ...] = setting(  # batch = width
        (16, 32, 64, 128, 256, 512, 1024), low=1, high=8192
    )
    crossover_steps: int = setting(20, low=1, high=100_000)  # steps timed per size and repeat
    crossover_repeats: int = setting(3, low=1, high=1000)  # measured runs per size and device
    crossover_threads: int = setting(0, low=0, high=1024)  # 0 = all physical cores

    def check(self) -> None:
        if self.epochs % self.curve_every:
            raise ValueError(f"curve_every ({self.curve_every}) must divide epochs ({self.epochs})")
        if self.epochs % self.chunk_epochs:
            raise ValueError(
                f"chunk_epochs ({self.chunk_epochs}) must divide epochs ({self.epochs})"
            )


DATA_SPEC = {
    "iris": {
        "dataset": {"train_rows": int, "test_rows": int, "features": int, "classes": int},
        "model": {"widths": [int], "parameters": int},
        "epochs": int,
        "threads": int,
        "flops_per_epoch": int,
        "per_device": NonEmpty(
            [
                device_entry(
                    warmup_s=TIMINGS,
                    times_s=TIMINGS,
                    summary=SUMMARY_SPEC,
                    chunk_epochs=int,
                    chunk_epoch_s=TIMINGS,
                    final_loss=OPT_NUMBER,
                    test_accuracy=NUMBER,
                    curve_every=int,
                    curve=NonEmpty([OPT_NUMBER]),
                    curve_sha256=NonEmpty([str]),
                    curves_identical=bool,
                )
            ]
        ),
    },
    "crossover": {
        "threads": int,
        "steps": int,
        "per_device": NonEmpty(
            [
                device_entry(
                    points=NonEmpty(
                        [
                            {
                                "size": int,
                                "flops_per_step": int,
                                "warmup_step_s": TIMINGS,
                                "step_s": TIMINGS,
                                "summary": SUMMARY_SPEC,
                                "each_step_s": TIMINGS,
                            }
                        ]
                    ),
                    crossover_size=(int, None),
                )
            ]
        ),
    },
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    threaded = data["crossover"]["threads"] > 1  # all physical cores by default
    return device_metrics(
        data["iris"]["per_device"],
        lambda e: [("iris", N_("Iris loop, per epoch"), {}, e["chunk_epoch_s"])],
    ) + device_metrics(
        data["crossover"]["per_device"],
        lambda e: [
            (
                f"crossover/{p['size']}",
                N_("step at N = {size}"),
                {"size": p["size"]},
                p["each_step_s"],
            )
            for p in e["points"]
        ],
        several_cores=lambda e: threaded and e["device"] == "cpu",
    )


def replica(config: Config) -> Config:
    """One more process's values: one chunk of the Iris loop, half the steps of each
    crossover size."""
    return dataclasses.replace(
        config,
        epochs=min(config.epochs, config.chunk_epochs),
        warmup=1,
        repeats=1,
        crossover_repeats=1,
        crossover_steps=max(1, config.crossover_steps // 2),
    )


DECLARATION = Declaration(
    name="cpu_vs_gpu",
    order=10,
    title=N_("CPU vs GPU on Iris"),
    config=Config,
    profiles={
        "default": Config(),
        "quick": Config(
            epochs=1000,
            chunk_epochs=100,
            repeats=3,
            crossover_sizes=(16, 64, 256),
            crossover_steps=5,
            crossover_repeats=3,
        ),
        "smoke": Config(
            epochs=200,
            chunk_epochs=20,
            repeats=3,
            crossover_sizes=(16, 32),
            crossover_steps=3,
            crossover_repeats=3,
        ),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
    replica=replica,
)
