"""One builder for every network the experiments train, and the optimizers by name."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from experiments.workloads.catalog import MlpSpec


def mlp(spec: MlpSpec) -> nn.Sequential:
    """Linear layers with ReLU between, as the notes build them; images are flattened first
    (note 003's `Flatten`), flat samples (Iris, digits) go straight in."""
    modules: list[nn.Module] = [nn.Flatten()] if spec.flattens else []
    for index, (inputs, outputs) in enumerate(spec.layers):
        if index:
            modules.append(nn.ReLU())
        modules.append(nn.Linear(inputs, outputs))
    return nn.Sequential(*modules)


class MLP(nn.Module):
    """The notes' Iris network exactly as note 000 writes it: its own class, fc1, relu, fc2
    and a forward of its own (an nn.Sequential of the same layers is about 3 % slower per
    epoch, so the notes' loop is timed with this). `hidden` is the notes' 10 by default;
    the layers are created in the same order as `mlp()`'s, so a seed gives both the same
    weights."""

    def __init__(self, hidden: int = 10):
        super(MLP, self).__init__()  # noqa: UP008 - as the notes write it
        self.fc1 = nn.Linear(4, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc1(x)
        x = self.relu(x)
        x = self.fc2(x)
        return x


def notes_iris(spec: MlpSpec) -> nn.Module:
    """The notes' own class for their Iris network, `mlp(spec)` for any other shape."""
    widths = spec.widths
    if len(widths) == 3 and widths[0] == 4 and widths[2] == 3 and not spec.flattens:
        return MLP(widths[1])
    return mlp(spec)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def optimizer(name: str, parameters: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """One of catalog.OPTIMIZERS: plain SGD, SGD with momentum 0.9, or Adam."""
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    if name == "sgd_momentum":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}")
