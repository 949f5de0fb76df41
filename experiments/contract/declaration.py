"""One declaration per experiment: everything the rest of the tool needs to know about it.

Each experiment is a folder in `experiments/suite/`: its `__init__.py` holds
`DECLARATION` (torch-free, so the report can read it on a machine without
torch) and its `measure.py` the code that measures (`run(config, devices,
ctx)`, imports torch). The runner, the reader, the report's section registry
and the diff are all built from the declarations found there, so adding an
experiment edits nothing outside its own files.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from experiments.contract.shapes import Spec

# Every experiment has these profiles: `smoke` for the test suite (seconds, all code
# paths), `quick` for a first try and CI-sized checks, `default` faithful to the notes.
PROFILE_NAMES = ("smoke", "quick", "default")

SUITE_PACKAGE = "experiments.suite"


def N_(message: str) -> str:
    """Mark an English message for translation without translating it here: the report
    translates it when it shows it (the extractor collects every N_("…"))."""
    return message


@dataclass(frozen=True)
class Metric:
    """One timing a diff compares across machines: its raw repeated values, in seconds.

    `key` matches the same measurement in another machine's file; `label` is the
    English message (with `{placeholders}` filled from `params`) the report
    translates and shows, followed by the device.
    """

    key: str
    label: str
    params: Mapping[str, Any]
    device: str
    values: Sequence[float]
    # measured on several cores (threads or processes): the drift of the reference workload
    # that needs a second core applies to it too (experiments.contract.drift)
    several_cores: bool = False


@dataclass(frozen=True)
class Declaration:
    name: str  # identifier: folder, file and section names
    order: int  # position in the report: the notes' order
    title: str  # English message; the report shows its translation
    config: type[Any]  # frozen dataclass of settings, validated in __post_init__
    profiles: Mapping[str, Any]  # PROFILE_NAMES -> an instance of `config`
    data_spec: Spec  # the shape of the result's `data` when its status is ok
    metrics: Callable[[dict[str, Any]], list[Metric]]  # timings a diff compares
    measure: str  # module whose run(config, devices, ctx) measures (imports torch)
    # The shorter configuration that a fresh worker process measures once more after the run
    # (experiments.core.replicas), so that the diff sees each timing from several processes;
    # None: measured in the run's own process only
    replica: Callable[[Any], Any] | None = None
    # By profile: how many of the last worker rounds this experiment sits out, where its
    # replica costs most of a round (data parallelism starts torchrun again in each); the
    # diff's processes rule still needs the run's own process and two workers
    replica_sits_out: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [p for p in PROFILE_NAMES if p not in self.profiles]
        if missing:
            raise ValueError(f"experiment {self.name!r} lacks the profiles {missing}")
        for name, profile in self.profiles.items():
            if not isinstance(profile, self.config):
                raise TypeError(f"{self.name}: profile {name!r} is not a {self.config.__name__}")
        for name, rounds in self.replica_sits_out.items():
            if name not in PROFILE_NAMES or rounds < 0:
                raise ValueError(f"{self.name}: replica_sits_out {name!r}: {rounds}")

    def worker_rounds(self, profile: str, workers: int) -> int:
        """How many of a run's `workers` rounds measure this experiment again."""
        if self.replica is None:
            return 0
        return max(0, workers - self.replica_sits_out.get(profile, 0))

    def load_measure(self) -> Any:
        """The measuring module (imports torch: only the runner calls this)."""
        return importlib.import_module(self.measure)


def device_metrics(
    entries: Sequence[dict[str, Any]],
    values: Callable[
        [dict[str, Any]], Sequence[tuple[str, str, Mapping[str, Any], Sequence[float]]]
    ],
    several_cores: Callable[[dict[str, Any]], bool] = lambda entry: False,
) -> list[Metric]:
    """Metrics of a result's per-device entries: `values(entry)` yields (key, label, params,
    timings) for one device; the device's name completes each key; `several_cores(entry)`
    says whether that device's timings ran on several CPU cores."""
    metrics = []
    for entry in entries:
        threaded = several_cores(entry)
        for key, label, params, timings in values(entry):
            if timings:
                metrics.append(
                    Metric(
                        f"{key}/{entry['device']}",
                        label,
                        params,
                        entry["device"],
                        timings,
                        several_cores=threaded,
                    )
                )
    return metrics


@functools.cache
def declarations() -> dict[str, Declaration]:
    """Every experiment of the suite, in the report's order (found, not listed)."""
    suite = importlib.import_module(SUITE_PACKAGE)
    found: list[Declaration] = []
    for info in pkgutil.iter_modules(suite.__path__):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{SUITE_PACKAGE}.{info.name}")
        declaration = getattr(module, "DECLARATION", None)
        if not isinstance(declaration, Declaration):
            raise TypeError(f"{module.__name__} has no DECLARATION")
        if declaration.name != info.name:
            raise ValueError(f"{module.__name__} declares the name {declaration.name!r}")
        found.append(declaration)
    return {d.name: d for d in sorted(found, key=lambda d: (d.order, d.name))}


def names() -> list[str]:
    return list(declarations())


def get(name: str) -> Declaration:
    known = declarations()
    if name not in known:
        raise KeyError(f"unknown experiment {name!r} (known: {', '.join(known)})")
    return known[name]
