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
