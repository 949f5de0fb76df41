"""Experiment 1 of the notes (000, 001): the same tiny Iris training loop on the CPU and on
each GPU, then a crossover sweep that grows the work until a GPU stops losing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.shapes import NUMBER, OPT_NUMBER, SUMMARY_SPEC, device_entry


@dataclass(frozen=True)
class Config:
    seed: int = 0  # seeds torch/NumPy/random before every repeat: same start weights everywhere
    epochs: int = 20_000  # the notes' 20 000 full-batch epochs
    lr: float = 0.01  # the notes' SGD learning rate
    hidden: int = 10  # Linear(4, hidden) -> ReLU -> Linear(hidden, 3)
    split_seed: int = 42  # train_test_split(random_state=42), as in the notes
    test_size: float = 0.2  # the notes' 80/20 split
    warmup: int = 1  # discarded first runs per device (lazy imports, allocator, caches)
    repeats: int = 5  # measured runs per device, interleaved across devices
    threads: int = 1  # torch intra-op threads for the Iris loop; more only adds sync cost
    curve_every: int = 10  # keep every k-th epoch's loss in the file (all epochs are hashed)
    crossover_sizes: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)  # batch = width
    crossover_steps: int = 20  # training steps timed per size and repeat
    crossover_repeats: int = 3  # measured runs per size and device
    crossover_threads: int = 0  # threads for the sweep; 0 = all physical cores (fair to the CPU)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.repeats < 1 or self.warmup < 1:
            raise ValueError("epochs, repeats and warmup must each be at least 1")
        if self.curve_every < 1 or self.epochs % self.curve_every:
            raise ValueError(f"curve_every ({self.curve_every}) must divide epochs ({self.epochs})")
        if not self.crossover_sizes or min(self.crossover_sizes) < 1:
            raise ValueError("crossover_sizes must be positive sizes")
        if self.crossover_steps < 1 or self.crossover_repeats < 1:
            raise ValueError("crossover_steps and crossover_repeats must each be at least 1")
        if self.threads < 1 or self.crossover_threads < 0:
            raise ValueError("threads must be at least 1 and crossover_threads at least 0")


DATA_SPEC = {
    "iris": {
        "dataset": {"train_rows": int, "test_rows": int, "features": int, "classes": int},
        "model": {"widths": [int], "parameters": int},
        "epochs": int,
        "threads": int,
        "flops_per_epoch": int,
        "per_device": [
            device_entry(
                warmup_s=[NUMBER],
                times_s=[NUMBER],
                summary=SUMMARY_SPEC,
                final_loss=OPT_NUMBER,
                test_accuracy=NUMBER,
                curve_every=int,
                curve=[OPT_NUMBER],
                curve_sha256=[str],
                curves_identical=bool,
            )
        ],
    },
    "crossover": {
        "threads": int,
        "steps": int,
        "per_device": [
            device_entry(
                points=[
                    {
                        "size": int,
                        "flops_per_step": int,
                        "warmup_step_s": [NUMBER],
                        "step_s": [NUMBER],
                        "summary": SUMMARY_SPEC,
                    }
                ],
                crossover_size=(int, None),
            )
        ],
    },
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["iris"]["per_device"], lambda e: [("iris", N_("Iris loop"), {}, e["times_s"])]
    ) + device_metrics(
        data["crossover"]["per_device"],
        lambda e: [
            (f"crossover/{p['size']}", N_("step at N = {size}"), {"size": p["size"]}, p["step_s"])
            for p in e["points"]
        ],
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
            repeats=3,
            crossover_sizes=(16, 64, 256),
            crossover_steps=5,
            crossover_repeats=3,
        ),
        "smoke": Config(
            epochs=200, repeats=3, crossover_sizes=(16, 32), crossover_steps=3, crossover_repeats=3
        ),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
)
