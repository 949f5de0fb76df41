"""The notes' data and models, built the same way by every experiment that uses them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler
from torch import nn


@dataclass(frozen=True)
class Split:
    """A real data set split into training and test tensors (float32 features, int64 labels)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def iris(split_seed: int = 42, test_size: float = 0.2) -> Split:
    """Iris as the notes prepare it: 80/20 split, MinMaxScaler fitted on the training part."""
    features, labels = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=split_seed
    )
    scaler = MinMaxScaler()
    x_train = scaler.fit_transform(x_train)
    x_test = scaler.transform(x_test)
    return Split(
        x_train=torch.tensor(x_train, dtype=torch.float32),
        y_train=torch.tensor(y_train, dtype=torch.int64),
        x_test=torch.tensor(x_test, dtype=torch.float32),
        y_test=torch.tensor(y_test, dtype=torch.int64),
    )


def digits(split_seed: int = 42, test_size: float = 0.2) -> Split:
    """scikit-learn's 8×8 digits (ships offline), pixels scaled from 0…16 to 0…1."""
    features, labels = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features / 16.0, labels, test_size=test_size, random_state=split_seed
    )
    return Split(
        x_train=torch.tensor(x_train, dtype=torch.float32),
        y_train=torch.tensor(y_train, dtype=torch.int64),
        x_test=torch.tensor(x_test, dtype=torch.float32),
        y_test=torch.tensor(y_test, dtype=torch.int64),
    )


def iris_mlp(hidden: int = 10) -> nn.Sequential:
    """Linear(4, hidden) -> ReLU -> Linear(hidden, 3), the notes' model."""
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def mlp_matmul_flops(batch: int, widths: list[int]) -> int:
    """Matrix-multiply FLOPs of one training step of an MLP with these layer widths.

    Forward: 2·B·in·out per layer. Backward: the weight gradient of every layer
    (the same again) and the input gradient of every layer but the first (its
    input is data, which needs no gradient). Biases, ReLU and the loss are
    left out: they are O(B·width), not O(B·width²).
    """
    layers = list(itertools.pairwise(widths))
    forward = sum(2 * batch * i * o for i, o in layers)
    input_grads = sum(2 * batch * i * o for i, o in layers[1:])
    return 2 * forward + input_grads


def train_like_the_notes(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    epochs: int,
) -> list[float]:
    """The notes' loop, step for step: forward, loss, zero_grad, backward, step, loss.item()."""
    criterion = nn.CrossEntropyLoss()
    losses: list[float] = []
    for _ in range(epochs):
        outputs = model(x)
        loss = criterion(outputs, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_recording_every(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    every: int,
) -> list[float]:
    """The notes' loop, recording `loss.item()` only every `every` epochs (001's experiment)."""
    criterion = nn.CrossEntropyLoss()
    losses: list[float] = []
    for epoch in range(epochs):
        outputs = model(x)
        loss = criterion(outputs, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (epoch + 1) % every == 0:
            losses.append(loss.item())
    return losses


def train_reading_once(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    epochs: int,
) -> list[float]:
    """The notes' loop with no `.item()` inside: losses stay on the device, read once at the end.

    `detach()` launches nothing; the single `tolist()` at the end is the only
    device-to-host copy and the only point where the CPU waits for the device.
    """
    criterion = nn.CrossEntropyLoss()
    on_device: list[torch.Tensor] = []
    for _ in range(epochs):
        outputs = model(x)
        loss = criterion(outputs, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        on_device.append(loss.detach())
    values: list[float] = torch.stack(on_device).tolist()
    return values
