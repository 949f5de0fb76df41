"""The notes' training loop, step for step, and the variants the logging experiment times."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def train_like_the_notes(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    epochs: int,
) -> list[float]:
    """The notes' loop: forward, loss, zero_grad, backward, step, loss.item() every epoch."""
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


def notes_step(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
) -> Callable[[], float]:
    """One step of the notes' loop per call, for timing every step on its own (the loss
    function is made once, as in the loop, not once per call)."""
    criterion = nn.CrossEntropyLoss()

    def step() -> float:
        outputs = model(x)
        loss = criterion(outputs, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value: float = loss.item()
        return value

    return step


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


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows whose largest output is the label."""
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    return float((predicted == y).float().mean())
