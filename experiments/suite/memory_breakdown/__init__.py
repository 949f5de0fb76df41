"""Experiment 3 of the notes (003): where a training step's memory goes, measured bucket by
bucket from a real step and predicted from shapes and dtypes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric
from experiments.contract.settings import SEED, Settings, setting
from experiments.contract.shapes import (
    NonEmpty,
    Nullable,
    device_entry,
)
from experiments.workloads.catalog import OPTIMIZERS

# The notes' MNIST and CIFAR-10 MLPs (003), and the Iris MLP (000, 001).
MODELS = ("mnist_mlp", "cifar10_mlp", "iris_mlp")

BUCKETS = ("parameters", "gradients", "optimizer_state", "data", "activations", "autocast_copies")
BUCKET_BYTES = {bucket: int for bucket in BUCKETS}


@dataclass(frozen=True)
class Config(Settings):
    seed: int = setting(0, **SEED)  # model weights and synthetic data
    models: tuple[str, ...] = setting(MODELS, choices=MODELS)
    optimizers: tuple[str, ...] = setting(OPTIMIZERS, choices=OPTIMIZERS)
    batch_sizes: tuple[int, ...] = setting((64, 256), low=1, high=1_000_000)  # samples per step
    autocast: bool = True  # also measure under autocast (bf16 on CPU, fp16 on GPUs)
    lr: float = setting(0.01, low=0, low_open=True, high=10)  # memory does not depend on it


DATA_SPEC = {
    "buckets": [str],
    "per_device": NonEmpty(
        [
            device_entry(
                entries=NonEmpty(
                    [
                        {
                            "model": str,
                            "parameter_count": int,
                            "optimizer": str,
                            "batch": int,
                            "precision": str,
                            "measured": BUCKET_BYTES,
                            "predicted": BUCKET_BYTES,
                            "match": bool,
                            "allocator": Nullable({"peak_bytes": int, "unexplained_bytes": int}),
                        }
                    ]
                )
            )
        ]
    ),
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    """None: bytes are deterministic (the diff shows them side by side, without statistics)."""
    return []


DECLARATION = Declaration(
    name="memory_breakdown",
    order=40,
    title=N_("Where memory goes"),
    config=Config,
    profiles={
        "default": Config(),
        "quick": Config(batch_sizes=(64,)),
        "smoke": Config(batch_sizes=(64,), optimizers=("sgd", "adam")),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
)
