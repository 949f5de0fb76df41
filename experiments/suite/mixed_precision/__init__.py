"""Experiment 5 of the notes (004): mixed precision (FP16 with a GradScaler, BF16) against FP32:
time, memory, accuracy and the scaler's work, with the hardware's reason."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.settings import SEED, Settings, setting
from experiments.contract.shapes import (
    DATA_SOURCE_SPEC,
    NUMBER,
    OPT_INT,
    OPT_NUMBER,
    POSITIVE,
    REASON_SPEC,
    SUMMARY_SPEC,
    NonEmpty,
    Nullable,
    device_entry,
)
from experiments.workloads.catalog import MODELS

MODES = ("fp32", "fp16", "bf16")


@dataclass(frozen=True)
class Workload:
    model: str  # a network of the catalogue
    batch: int
    data: str  # "synthetic" (shape only), "iris" or "digits" (real, with a test set)
    lr: float


WORKLOADS: dict[str, Workload] = {
    # the notes' MNIST MLP 784-128-64-10, batch 64, SGD lr 0.01 (004)
    "notes_mnist": Workload("notes_mnist", 64, "synthetic", 0.01),
    # enough arithmetic per step for low precision to matter
    "wide_mlp": Workload("wide_mlp", 256, "synthetic", 0.01),
    # the notes' Iris MLP, full batch: the tiny case
    "iris": Workload("iris_mlp", 120, "iris", 0.01),
    # real data with a test set, for accuracy
    "digits": Workload("digits_mlp", 64, "digits", 0.05),
}
assert all(w.model in MODELS for w in WORKLOADS.values())


@dataclass(frozen=True)
class Config(Settings):
    seed: int = setting(0, **SEED)  # weights, data and batch order
    workloads: tuple[str, ...] = setting(tuple(WORKLOADS), choices=tuple(WORKLOADS))
    modes: tuple[str, ...] = setting(MODES, choices=MODES)
    # training steps per workload, in order
    steps: tuple[int, ...] = setting((400, 10, 1000, 900), low=1, high=1_000_000)
    warmup: int = setting(1, low=1, high=100)  # discarded runs per workload, mode and device
    repeats: int = setting(3, low=1, high=1000)  # timed runs per workload, mode and device
    chunks: int = setting(10, low=1, high=10_000)  # clock readings per run (divides every steps)
    threads: int = setting(0, low=0, high=1024)  # torch threads on the CPU; 0 = physical cores
    # GradScaler's starting scale (its default, 2**16)
    init_scale: float = setting(65536.0, low=0, low_open=True, high=2.0**127)
    # skip a mode whose runs would take longer (emulated fp16)
    max_case_seconds: float = setting(60.0, low=0, low_open=True, high=86_400)
    data_dir: str = ""  # a local MNIST copy for notes_mnist (experiments.workloads.files)

    def check(self) -> None:
        if "fp32" not in self.modes:
            raise ValueError("modes must include fp32: every other mode is compared with it")
        if len(self.steps) != len(self.workloads):
            raise ValueError(
                f"steps needs one count per workload: {len(self.workloads)} workloads, "
                f"{len(self.steps)} counts"
            )
        uneven = [n for n in self.steps if n % self.chunks]
        if uneven:
            raise ValueError(
                f"chunks ({self.chunks}) must divide every workload's steps "
                f"(not {', '.join(map(str, uneven))})"
            )
        if self.data_dir:
            from pathlib import Path

            from experiments.workloads import files

            try:
                files.training_samples("mnist_files", Path(self.data_dir).expanduser())
            except files.DatasetNotFound as error:
                raise ValueError(f"data_dir: {error}") from None


DATA_SPEC = {
    "init_scale": NUMBER,
    "per_device": NonEmpty(
        [
            device_entry(
                workloads=NonEmpty(
                    [
                        {
                            "workload": str,
                            "data_source": DATA_SOURCE_SPEC,
                            "steps": int,
                            "batch": int,
                            "modes": NonEmpty(
                                [
                                    {
                                        "mode": str,
                                        "unsupported": Nullable(REASON_SPEC),
                                        "scaler_used": bool,
                                        "warmup_s": [POSITIVE],
                                        "step_s": [POSITIVE],
                                        "summary": SUMMARY_SPEC,
                                        "chunk_steps": OPT_INT,
                                        "chunk_step_s": [POSITIVE],
                                        "memory": Nullable({"*": int}),
                                        "final_loss": OPT_NUMBER,
                                        "accuracy": OPT_NUMBER,
                                        "max_parameter_difference": OPT_NUMBER,
                                        "max_loss_difference": OPT_NUMBER,
                                        "skipped_steps": OPT_INT,
                                        "final_scale": OPT_NUMBER,
                                        "nonfinite_losses": OPT_INT,
                                    }
                                ]
                            ),
                        }
                    ]
                )
            )
        ]
    ),
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["per_device"],
        lambda e: [
            (
                f"{w['workload']}/{m['mode']}",
                "{workload} {mode}",
                {"workload": w["workload"], "mode": m["mode"]},
                m["chunk_step_s"],
            )
            for w in e["workloads"]
            for m in w["modes"]
        ],
    )


# Workloads whose steps take tens of milliseconds: their values are long enough that one
# process sees the machine's moments; the workers repeat the short ones only.
NOT_REPLICATED = ("wide_mlp",)


def replica(config: Config) -> Config | None:
    """One more process's values: one repeat of half the steps of every short workload, in
    every mode."""
    kept = [i for i, w in enumerate(config.workloads) if w not in NOT_REPLICATED]
    if not kept:
        return None
    chunks = config.chunks
    return dataclasses.replace(
        config,
        warmup=1,
        repeats=1,
        workloads=tuple(config.workloads[i] for i in kept),
        steps=tuple(max(chunks, config.steps[i] // 2 // chunks * chunks) for i in kept),
    )


DECLARATION = Declaration(
    name="mixed_precision",
    order=60,
    title=N_("Mixed precision: FP16 and BF16 against FP32"),
    config=Config,
    profiles={
        "default": Config(),
        "quick": Config(workloads=("notes_mnist", "iris", "digits"), steps=(50, 200, 200)),
        "smoke": Config(workloads=("iris", "digits"), steps=(20, 20), repeats=2),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
    replica=replica,
)
