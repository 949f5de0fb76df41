"""Experiment 4 of the notes (003): how fast each batch size trains, how much memory it takes,
the largest that fits, and what larger batches cost in training quality."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.shapes import (
    DATA_SOURCE_SPEC,
    FIT_SPEC,
    NUMBER,
    OPT_INT,
    OPT_NUMBER,
    SUMMARY_SPEC,
    device_entry,
)
from experiments.workloads.catalog import MODELS, OPTIMIZERS, check_names


@dataclass(frozen=True)
class Config:
    seed: int = 0  # weights and synthetic data
    model: str = "mnist_mlp"  # a network of the catalogue (synthetic data of its exact shape)
    optimizer: str = "sgd"  # sgd, sgd_momentum or adam
    start: int = 16  # the notes: start at 16 and double
    max_batch: int = 4096  # the largest batch size timed
    samples_per_epoch: int = 16_384  # synthetic samples in one timed epoch
    warmup: int = 1  # discarded epochs per batch size and device
    repeats: int = 3  # timed epochs per batch size and device, interleaved
    threads: int = 0  # torch threads on the CPU; 0 = all physical cores
    memory_budget_bytes: int = 0  # 0 = budget_share × RAM available at the start (CPU)
    budget_share: float = 0.5  # share of available RAM a CPU run may plan to use
    recommend_share: float = 0.8  # the notes: use about 0.8 × the largest batch that fits
    memory_fraction: float = 1.0  # GPU: torch.cuda.set_per_process_memory_fraction for the search
    confirm_cap: int = 65_536  # CPU: never allocate a larger batch to confirm the prediction
    search_ceiling: int = 1 << 22  # GPU: stop doubling here even if nothing ran out
    lr: float = 0.01  # SGD learning rate for the timing runs
    quality_batches: tuple[int, ...] = (1, 4, 16, 64, 256, 1024)  # batch sizes trained on digits
    quality_epochs: int = 20  # sample budget = this × training rows, for every batch size
    quality_lr: float = 0.05  # SGD learning rate on digits, the same for every batch size
    data_dir: str = ""  # a local copy of MNIST / CIFAR-10 to time on (experiments.workloads.files)

    def __post_init__(self) -> None:
        check_names("model", [self.model], MODELS)
        check_names("optimizer", [self.optimizer], OPTIMIZERS)
        if self.start < 1 or self.max_batch < self.start * 2:
            raise ValueError("need start >= 1 and max_batch >= 2 × start (at least two sizes)")
        if self.samples_per_epoch < self.max_batch:
            raise ValueError("samples_per_epoch must hold at least one batch of max_batch")
        if not 0 < self.budget_share <= 1 or not 0 < self.recommend_share <= 1:
            raise ValueError("budget_share and recommend_share must be in (0, 1]")
        if not 0 < self.memory_fraction <= 1:
            raise ValueError("memory_fraction must be in (0, 1]")
        if not self.quality_batches or min(self.quality_batches) < 1 or self.quality_epochs < 1:
            raise ValueError("quality_batches and quality_epochs must be positive")


DATA_SPEC = {
    "model": str,
    "optimizer": str,
    "samples_per_epoch": int,
    "data_source": DATA_SOURCE_SPEC,
    "threads": int,
    "per_device": [
        device_entry(
            points=[
                {
                    "batch": int,
                    "steps": int,
                    "warmup_s": [NUMBER],
                    "epoch_s": [NUMBER],
                    "summary": SUMMARY_SPEC,
                    "samples_per_s": NUMBER,
                    "peak_bytes": int,
                }
            ],
            memory_fit=FIT_SPEC,
            limit={
                "method": str,
                "budget_bytes": OPT_INT,
                "memory_fraction": OPT_NUMBER,
                "largest_batch": OPT_INT,
                "reached_ceiling": bool,
                "search": [{"batch": int, "fits": bool}],
                "leaked_bytes": OPT_INT,
                "predicted_largest_batch": OPT_INT,
                "recommended_batch": OPT_INT,
                "confirmed_batch": OPT_INT,
                "confirmed_peak_bytes": OPT_INT,
                "predicted_peak_bytes": OPT_INT,
            },
        )
    ],
    "quality": {
        "dataset": {"name": str, "train_rows": int, "test_rows": int},
        "widths": [int],
        "sample_budget": int,
        "lr": NUMBER,
        "points": [{"batch": int, "steps": int, "test_loss": OPT_NUMBER, "test_accuracy": NUMBER}],
    },
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["per_device"],
        lambda e: [
            (
                f"epoch/{p['batch']}",
                N_("epoch at batch {batch}"),
                {"batch": p["batch"]},
                p["epoch_s"],
            )
            for p in e["points"]
        ],
    )


DECLARATION = Declaration(
    name="batch_size_scaling",
    order=50,
    title=N_("Batch size: speed, memory and the largest batch that fits"),
    config=Config,
    profiles={
        "default": Config(),
        "quick": Config(
            max_batch=256, samples_per_epoch=2048, quality_batches=(4, 64, 512), quality_epochs=3
        ),
        "smoke": Config(
            max_batch=64,
            samples_per_epoch=256,
            repeats=2,
            quality_batches=(4, 256),
            quality_epochs=1,
            confirm_cap=256,
        ),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
)
