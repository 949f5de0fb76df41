"""Experiment 5 of the notes (004): mixed precision (FP16 with a GradScaler, BF16) against FP32:
time, memory, accuracy and the scaler's work, with the hardware's reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.shapes import (
    DATA_SOURCE_SPEC,
    NUMBER,
    OPT_INT,
    OPT_NUMBER,
    REASON_SPEC,
    SUMMARY_SPEC,
    Nullable,
    device_entry,
)
from experiments.workloads.catalog import MODELS, check_names

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
class Config:
    seed: int = 0  # weights, data and batch order
    workloads: tuple[str, ...] = tuple(WORKLOADS)
    modes: tuple[str, ...] = MODES
    steps: tuple[int, ...] = (400, 10, 1000, 900)  # training steps per workload, in order
    warmup: int = 1  # discarded runs per workload, mode and device
    repeats: int = 3  # timed runs per workload, mode and device, interleaved
    threads: int = 0  # torch threads on the CPU; 0 = all physical cores
    init_scale: float = 65536.0  # GradScaler's starting scale (its default, 2**16)
    max_case_seconds: float = 60.0  # skip a mode whose runs would take longer (emulated fp16)
    data_dir: str = ""  # a local MNIST copy for notes_mnist (experiments.workloads.files)

    def __post_init__(self) -> None:
        check_names("workloads", self.workloads, WORKLOADS)
        check_names("modes", self.modes, MODES)
        if "fp32" not in self.modes:
            raise ValueError("modes must include fp32: every other mode is compared with it")
        if len(self.steps) != len(self.workloads) or min(self.steps) < 1:
            raise ValueError("steps needs one positive count per workload")
        if self.repeats < 1 or self.warmup < 1 or self.init_scale <= 0:
            raise ValueError("repeats and warmup must be >= 1, init_scale > 0")


DATA_SPEC = {
    "init_scale": NUMBER,
    "per_device": [
        device_entry(
            workloads=[
                {
                    "workload": str,
                    "data_source": DATA_SOURCE_SPEC,
                    "steps": int,
                    "batch": int,
                    "modes": [
                        {
                            "mode": str,
                            "unsupported": Nullable(REASON_SPEC),
                            "scaler_used": bool,
                            "warmup_s": [NUMBER],
                            "step_s": [NUMBER],
                            "summary": SUMMARY_SPEC,
                            "memory": Nullable({"*": int}),
                            "final_loss": OPT_NUMBER,
                            "accuracy": OPT_NUMBER,
                            "max_parameter_difference": OPT_NUMBER,
                            "max_loss_difference": OPT_NUMBER,
                            "skipped_steps": OPT_INT,
                            "final_scale": OPT_NUMBER,
                            "nonfinite_losses": OPT_INT,
                        }
                    ],
                }
            ]
        )
    ],
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["per_device"],
        lambda e: [
            (
                f"{w['workload']}/{m['mode']}",
                "{workload} {mode}",
                {"workload": w["workload"], "mode": m["mode"]},
                m["step_s"],
            )
            for w in e["workloads"]
            for m in w["modes"]
        ],
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
)
