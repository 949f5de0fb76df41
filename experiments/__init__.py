"""Everything that measures. The registry is lazy on purpose.

`experiments.resultformat` must stay importable without torch (report/ reads
results on machines that have none), so this package imports no experiment
module until one is asked for.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

# name -> module. Adding an experiment adds one line here and touches no other.
EXPERIMENTS: dict[str, str] = {
    "cpu_vs_gpu": "experiments.cpu_vs_gpu",
    "logging_interval": "experiments.logging_interval",
    "step_overhead": "experiments.step_overhead",
    "memory_breakdown": "experiments.memory_breakdown",
    "batch_size_scaling": "experiments.batch_size_scaling",
    "mixed_precision": "experiments.mixed_precision",
}


def load(name: str) -> ModuleType:
    """The module of one experiment: `Config`, `PROFILES`, `TITLE` and `run`."""
    if name not in EXPERIMENTS:
        known = ", ".join(sorted(EXPERIMENTS))
        raise KeyError(f"unknown experiment {name!r} (known: {known})")
    return importlib.import_module(EXPERIMENTS[name])
