"""Every data set an experiment trains on, as one type: a training part and, where the
labels mean something, a test part.

Iris and digits ship with scikit-learn (real data, no download); MNIST and
CIFAR-10 come from a user's local copy (`files`); anything else is a synthetic
tensor of the right shape, which is enough wherever only shapes matter
(memory, speed). `source` says which, as identifiers the report words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from experiments.workloads.catalog import MlpSpec
from experiments.workloads.split import Split

__all__ = ["Split"]  # the type every loader here returns (split.py, shared with files.py)


def _tensors(
    x_train: Any, x_test: Any, y_train: Any, y_test: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.tensor(x_train, dtype=torch.float32),
        torch.tensor(y_train, dtype=torch.int64),
        torch.tensor(x_test, dtype=torch.float32),
        torch.tensor(y_test, dtype=torch.int64),
    )


def iris(split_seed: int = 42, test_size: float = 0.2) -> Split:
    """Iris as the notes prepare it: 80/20 split, MinMaxScaler fitted on the training part."""
    features, labels = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=split_seed
    )
    scaler = MinMaxScaler()
    x_train = scaler.fit_transform(x_train)
    x_test = scaler.transform(x_test)
    return Split(*_tensors(x_train, x_test, y_train, y_test), kind="iris")


def digits(split_seed: int = 42, test_size: float = 0.2) -> Split:
    """scikit-learn's 8×8 digits (ships offline), pixels scaled from 0…16 to 0…1."""
    features, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features / 16.0, labels, test_size=test_size, random_state=split_seed
    )
    return Split(*_tensors(x_train, x_test, y_train, y_test), kind="digits")


def synthetic(spec: MlpSpec, samples: int, seed: int, device: torch.device | None = None) -> Split:
    """Pixels in [0, 1) as `ToTensor()` gives them and random labels, in the sample shape of
    `spec`; made on `device` itself (a memory search must not stage huge batches in RAM)."""
    generator = torch.Generator(device=device or "cpu").manual_seed(seed)
    x = torch.rand((samples, *spec.sample_shape), generator=generator, device=device)
    y = torch.randint(0, spec.classes, (samples,), generator=generator, device=device)
    return Split(x, y, None, None, kind="synthetic")


def from_files(kind: str, folder: str | Path) -> Split:
    """A user's local copy of MNIST or CIFAR-10 (see `files`)."""
    from experiments.workloads import files

    readers = {"mnist_files": files.load_mnist, "cifar10_files": files.load_cifar10}
    if kind not in readers:
        raise ValueError(f"no reader for {kind!r}; known: {list(readers)}")
    return readers[kind](Path(folder).expanduser())
