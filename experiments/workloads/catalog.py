"""The notes' networks and optimizers by name, as plain numbers (no torch).

Declarations validate settings against these names on machines without
torch, and the arithmetic that needs no tensors (parameter counts, matrix
FLOPs) is done here once for every experiment.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class MlpSpec:
    """An MLP as the notes build them: Linear layers with ReLU between, on samples of
    `sample_shape` (an image is flattened first)."""

    widths: tuple[int, ...]  # input features, hidden widths…, classes
    sample_shape: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.widths) < 2 or min(self.widths) < 1:
            raise ValueError(f"an MLP needs at least two positive widths, got {self.widths}")
        size = 1
        for dim in self.sample_shape:
            size *= dim
        if size != self.widths[0]:
            raise ValueError(f"samples of shape {self.sample_shape} do not feed {self.widths[0]}")

    @property
    def layers(self) -> list[tuple[int, int]]:
        return list(itertools.pairwise(self.widths))

    @property
    def parameter_count(self) -> int:
        return sum(i * o + o for i, o in self.layers)

    @property
    def classes(self) -> int:
        return self.widths[-1]

    @property
    def flattens(self) -> bool:
        return len(self.sample_shape) > 1

    def matmul_flops(self, batch: int) -> int:
        """Matrix-multiply FLOPs of one training step on `batch` samples.

        Forward: 2·B·in·out per layer. Backward: the weight gradient of every layer
        (the same again) and the input gradient of every layer but the first (its
        input is data, which needs no gradient). Biases, ReLU and the loss are left
        out: they are O(B·width), not O(B·width²).
        """
        forward = sum(2 * batch * i * o for i, o in self.layers)
        input_grads = sum(2 * batch * i * o for i, o in self.layers[1:])
        return 2 * forward + input_grads


def iris_mlp(hidden: int = 10) -> MlpSpec:
    """The notes' Iris network: Linear(4, hidden) -> ReLU -> Linear(hidden, 3)."""
    return MlpSpec((4, hidden, 3), (4,))


def square_mlp(size: int) -> MlpSpec:
    """The crossover sweep's network: Linear(size, size) -> ReLU -> Linear(size, 3)."""
    return MlpSpec((size, size, 3), (size,))


MODELS: dict[str, MlpSpec] = {
    "iris_mlp": iris_mlp(),
    # note 003's MNIST and CIFAR-10 MLPs
    "mnist_mlp": MlpSpec((784, 128, 10), (1, 28, 28)),
    "cifar10_mlp": MlpSpec((3072, 128, 10), (3, 32, 32)),
    # note 004's MNIST MLP (with log_softmax and NLLLoss in its loop)
    "notes_mnist": MlpSpec((784, 128, 64, 10), (1, 28, 28)),
    # enough arithmetic per step for low precision to matter
    "wide_mlp": MlpSpec((1024, 2048, 2048, 10), (1024,)),
    # scikit-learn's 8×8 digits
    "digits_mlp": MlpSpec((64, 64, 10), (64,)),
}

# fp32 copies of the parameters an optimizer keeps: SGD none, momentum one, Adam two.
OPTIMIZER_STATE_COPIES = {"sgd": 0, "sgd_momentum": 1, "adam": 2}
OPTIMIZERS = tuple(OPTIMIZER_STATE_COPIES)

# Where a workload's samples come from (result files store these identifiers).
DATA_KINDS = ("synthetic", "iris", "digits", "mnist_files", "cifar10_files")

# Models whose real data set a user can point `data_dir` at.
REAL_DATA: dict[str, str] = {
    "mnist_mlp": "mnist_files",
    "notes_mnist": "mnist_files",
    "cifar10_mlp": "cifar10_files",
}
