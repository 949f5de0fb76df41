"""Experiment 4 of the notes (003): how fast each batch size trains, how much memory it takes,
the largest that fits, and what larger batches cost in training quality."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.settings import SEED, Settings, setting
from experiments.contract.shapes import (
    DATA_SOURCE_SPEC,
    FIT_SPEC,
    NUMBER,
    OPT_INT,
    OPT_NUMBER,
    SUMMARY_SPEC,
    TIMINGS,
    NonEmpty,
    device_entry,
)
from experiments.workloads.catalog import MODELS, OPTIMIZERS, REAL_DATA


@dataclass(frozen=True)
class Config(Settings):
    seed: int = setting(0, **SEED)  # weights and synthetic data
    # a network of the catalogue (synthetic data of its exact shape)
    model: str = setting("mnist_mlp", choices=MODELS)
    optimizer: str = setting("sgd", choices=OPTIMIZERS)  # sgd, sgd_momentum or adam
    start: int = setting(16, low=1, high=1 << 20)  # the notes: start at 16 and double
    max_batch: int = setting(4096, low=2, high=1 << 22)  # the largest batch size timed
    samples_per_epoch: int = setting(16_384, low=1, high=1 << 24)  # samples in one timed epoch
    warmup: int = setting(1, low=1, high=100)  # discarded epochs per batch size and device
    repeats: int = setting(10, low=1, high=1000)  # timed epochs per batch size and device
    threads: int = setting(0, low=0, high=1024)  # torch threads on the CPU; 0 = physical cores
    # 0 = budget_share × RAM available at the start (CPU)
    memory_budget_bytes: int = setting(0, low=0)
    budget_share: float = setting(0.5, low=0, low_open=True, high=1)  # share of available RAM
    recommend_share: float = setting(0.8, low=0, low_open=True, high=1)  # the notes' 0.8 ×
    # GPU: torch.cuda.set_per_process_memory_fraction for the search
    memory_fraction: float = setting(1.0, low=0, low_open=True, high=1)
    confirm_cap: int = setting(65_536, low=1)  # CPU: never allocate more just to confirm
    search_ceiling: int = setting(1 << 22, low=1)  # GPU: stop doubling here
    lr: float = setting(0.01, low=0, low_open=True, high=10)  # SGD learning rate for timing
    # batch sizes trained on digits (1,437 training rows)
    quality_batches: tuple[int, ...] = setting((1, 4, 16, 64, 256, 1024), low=1, high=1437)
    quality_epochs: int = setting(20, low=1, high=1000)  # sample budget = this × rows
    quality_lr: float = setting(0.05, low=0, low_open=True, high=10)  # SGD lr on digits
    data_dir: str = ""  # a local copy of MNIST / CIFAR-10 to time on (experiments.workloads.files)

    def check(self) -> None:
        if self.max_batch < self.start * 2:
            raise ValueError(
                f"max_batch ({self.max_batch}) must be at least twice start ({self.start}): "
                "at least two batch sizes are timed"
            )
        if self.samples_per_epoch < self.max_batch:
            raise ValueError(
                f"samples_per_epoch ({self.samples_per_epoch}) must hold at least one batch "
                f"of max_batch ({self.max_batch})"
            )
        if self.data_dir:
            samples = local_samples(self.model, self.data_dir)
            if samples < self.samples_per_epoch:
                raise ValueError(
                    f"data_dir {self.data_dir!r} holds {samples} training samples, fewer than "
                    f"one epoch (samples_per_epoch = {self.samples_per_epoch})"
                )


def local_samples(model: str, data_dir: str) -> int:
    """Training samples of the user's local copy of `model`'s data set (ValueError if none)."""
    from pathlib import Path

    from experiments.workloads import files

    kind = REAL_DATA.get(model)
    if kind is None:
        raise ValueError(f"data_dir is set but {model} has no real data set")
    try:
        return files.training_samples(kind, Path(data_dir).expanduser())
    except files.DatasetNotFound as error:
        raise ValueError(f"data_dir: {error}") from None


DATA_SPEC = {
    "model": str,
    "optimizer": str,
    "samples_per_epoch": int,
    "data_source": DATA_SOURCE_SPEC,
    "threads": int,
    "per_device": NonEmpty(
        [
            device_entry(
                points=NonEmpty(
                    [
                        {
                            "batch": int,
                            "steps": int,
                            "warmup_s": TIMINGS,
                            "epoch_s": TIMINGS,
                            "summary": SUMMARY_SPEC,
                            "chunk_step_s": TIMINGS,  # per step, of each eighth of an epoch
                            "samples_per_s": NUMBER,
                            "peak_bytes": int,
                        }
                    ]
                ),
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
        ]
    ),
    "quality": {
        "dataset": {"name": str, "train_rows": int, "test_rows": int},
        "widths": [int],
        "sample_budget": int,
        "lr": NUMBER,
        "points": NonEmpty(
            [{"batch": int, "steps": int, "test_loss": OPT_NUMBER, "test_accuracy": NUMBER}]
        ),
    },
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["per_device"],
        lambda e: [
            (
                f"step/{p['batch']}",
                N_("step at batch {batch}"),
                {"batch": p["batch"]},
                p["chunk_step_s"],
            )
            for p in e["points"]
        ],
    )


def replica(config: Config) -> Config:
    """One more process's values: one timed half epoch of every batch size."""
    samples = max(config.max_batch, config.samples_per_epoch // 2)
    return dataclasses.replace(config, warmup=1, repeats=1, samples_per_epoch=samples)


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
    replica=replica,
)
