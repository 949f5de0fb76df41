"""Comparing runs across machines: what differs in the machines, and which timings differ
for real (a rank test on the raw repeats and a minimum ratio must both agree)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.contract import declaration
from experiments.contract.declaration import Metric
from experiments.contract.drift import (
    Series,
    one_core,
    run_series,
    widest_between,
    widest_level_shift,
    widest_within,
)
from experiments.contract.format import (
    ENVIRONMENT_FILE,
    RUN_FILE,
    ResultFormatError,
    dumps,
    read_document,
)
from report.diff.processes import (
    LeftOut,
    by_processes,
    process_values,
    slow_moments,
    timing_metrics,
)
from report.diff.stats import (
    PROCESSES,
    SLOWER,
    Comparison,
    decide,
    measure,
    measure_processes,
)
from report.render.load import load_run
from report.words.i18n import _

# Machine facts that identify hardware and software; anything else (clocks now, free
# memory, temperatures) is volatile and listed apart.
IDENTITY_PREFIXES = (
    "cpu.model",
    "cpu.vendor",
    "cpu.architecture",
    "cpu.microarchitecture",
    "cpu.physical_cores",
    "cpu.logical_threads",
    "cpu.isa",
    "cpu.caches",
    "cpu.torch_cpu_capability",
    "memory.total_bytes",
    "gpus",
    "gpu_driver",
    "torch",
    "python",
    "os.system",
    "os.release",
    "env",
)
VOLATILE = ("start", "end", "frequency_mhz.current", "available_bytes")


class DiffRefused(Exception):
    """Runs that cannot be compared; the text says why in one line."""


@dataclass(frozen=True)
class RunInput:
    label: str
    run_id: str
    path: Path
    environment: dict[str, Any] | None
    experiments: dict[str, dict[str, Any]]


def load_input(path: Path) -> RunInput:
    """A run folder, or a single experiment file (its folder's environment.json if present)."""
    if path.is_dir():
        run = load_run(path)
        return RunInput(
            run.manifest["label"], run.manifest["run_id"], path, run.environment, run.experiments
        )
    document = read_document(path, "experiment")
    environment_path = path.parent / ENVIRONMENT_FILE
    environment = (
        read_document(environment_path, "environment") if environment_path.exists() else None
    )
    label, run_id = path.parent.parent.name or "?", path.parent.name or "?"
    if (path.parent / RUN_FILE).exists():
        manifest = read_document(path.parent / RUN_FILE, "run")
        label, run_id = manifest["label"], manifest["run_id"]
    return RunInput(label, run_id, path, environment, {document["experiment"]: document})


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def machine_differences(runs: Sequence[RunInput]) -> dict[str, list[dict[str, Any]]]:
    """Fields whose values differ between the runs, identity and volatile apart."""
    flat = [dict(_flatten(r.environment)) if r.environment else {} for r in runs]
    keys = sorted(set().union(*flat))
    identity, volatile = [], []
    for key in keys:
        values = [f.get(key) for f in flat]
        if len({repr(v) for v in values}) == 1:
            continue
        row = {"field": key, "values": values}
        leaf = key.split(".", 1)[-1]
        if any(part in key for part in VOLATILE) or leaf in VOLATILE:
            volatile.append(row)
        elif key.startswith(IDENTITY_PREFIXES) and key not in ("schema_version", "kind"):
            identity.append(row)
    return {"identity": identity, "volatile": volatile}


def metric_name(metric: Metric) -> str:
    """How a metric is named to the reader: its label in the reader's language, the device."""
    return _("{label}, {device}").format(
        label=_(metric.label).format(**metric.params), device=metric.device
    )


@dataclass
class Row:
    experiment: str
    metric: Metric
    baseline: list[float]
    other: list[float]
    comparison: Comparison
    processes: tuple[int, int] = (1, 1)  # how many processes each side's values came from

    @property
    def name(self) -> str:
        return metric_name(self.metric)


@dataclass(frozen=True)
class Drift:
    """How much of a difference between two runs the machines' own drift could explain."""

    # slowest / fastest reference checkpoint of the baseline (the widest over the workloads)
    within_baseline: float | None
    within_other: float | None
    between: float | None  # same machine: largest reference ratio across the two runs
    same_machine: bool
    # the same three over every workload, the two-thread one too: for timings that ran on
    # several cores (None where no run timed it: files of version 3)
    several_cores: tuple[float | None, float | None, float | None] = (None, None, None)
    # same machine: how far the whole run's level moved between the runs (geometric means of
    # the one-core workloads, then of all of them): the guard of the processes rule
    level_shift: float | None = None
    level_shift_several_cores: float | None = None

    @property
    def allowance(self) -> float:
        """The ratio a one-core timing must pass to be called: the largest of the above
        (1.0 when neither run measured its drift)."""
        known = [d for d in (self.within_baseline, self.within_other, self.between) if d]
        return max(known, default=1.0)

    @property
    def allowance_several_cores(self) -> float:
        """The same for a timing that ran on several cores."""
        return max([self.allowance, *(d for d in self.several_cores if d)])

    def allowance_for(self, metric: Metric) -> float:
        return self.allowance_several_cores if metric.several_cores else self.allowance

    def guard_for(self, metric: Metric) -> float:
        """What a timing decided from several processes a side must also clear: the shift
        of the machine's level between two runs of one machine (1.0 between machines: a
        difference of hardware is what a comparison of two machines is for)."""
        shift = self.level_shift_several_cores if metric.several_cores else self.level_shift
        return shift or 1.0

    @property
    def measured(self) -> bool:
        return self.within_baseline is not None and self.within_other is not None


@dataclass(frozen=True)
class BusyNote:
    label: str
    experiment: str
    cores: float | None


@dataclass
class DiffResult:
    runs: list[RunInput]
    baseline: int
    machines: dict[str, list[dict[str, Any]]]
    alpha: float = 0.01
    min_ratio: float = 1.05
    rows: dict[int, list[Row]] = field(default_factory=dict)  # by index of the other run
    drift: dict[int, Drift] = field(default_factory=dict)  # by index of the other run
    copies: list[int] = field(default_factory=list)  # runs identical to the baseline
    only_in_some: list[str] = field(default_factory=list)
    config_differences: list[str] = field(default_factory=list)

    @property
    def tested(self) -> int:
        """How many timings the family-wise correction covered."""
        return sum(
            1 for rows in self.rows.values() for r in rows if r.comparison.adjusted_p is not None
        )

    @property
    def busy(self) -> list[BusyNote]:
        """Runs measured while other processes used the CPU: their timings say less."""
        notes = []
        for run in self.runs:
            for name, document in run.experiments.items():
                conditions = document["conditions"]
                if conditions.get("busy_machine"):
                    notes.append(
                        BusyNote(run.label, name, conditions.get("other_processes_cpu_cores"))
                    )
        return notes

    def left_out(self, index: int) -> list[LeftOut]:
        """The workers the baseline and run `index` lost to a moment of their own, in the
        experiments both ran."""
        found = []
        pair = (self.runs[self.baseline], self.runs[index])
        for run in pair:
            for name, document in sorted(run.experiments.items()):
                if not all(name in other.experiments for other in pair):
                    continue
                for round_, ratio in sorted(slow_moments(document).items()):
                    found.append(LeftOut(run.label, name, round_, ratio))
        return found

    @property
    def planted(self) -> list[str]:
        """Runs measured with the test-only planted slowdown: never a real comparison."""
        return [
            run.label
            for run in self.runs
            if any(d["conditions"].get("planted_slowdown") for d in run.experiments.values())
        ]

    @property
    def regressions(self) -> list[Row]:
        return [r for rows in self.rows.values() for r in rows if r.comparison.verdict == SLOWER]


def _config_differences(runs: Sequence[RunInput], name: str) -> list[str]:
    configs = [r.experiments[name]["config"] for r in runs if name in r.experiments]
    keys = sorted(set().union(*configs))
    return [
        f"{name}.{key}: " + " vs ".join(repr(c.get(key)) for c in configs)
        for key in keys
        if len({repr(c.get(key)) for c in configs}) > 1
    ]


def _reference(run: RunInput) -> Series:
    ordered_documents = [run.experiments[n] for n in declaration.names() if n in run.experiments]
    return run_series(ordered_documents)


def pair_drift(baseline: RunInput, other: RunInput, same_machine: bool) -> Drift:
    mine, theirs = _reference(baseline), _reference(other)
    level = widest_level_shift(one_core(mine), one_core(theirs)) if same_machine else None
    level_all = widest_level_shift(mine, theirs) if same_machine else None
    return Drift(
        widest_within(one_core(mine)),
        widest_within(one_core(theirs)),
        widest_between(one_core(mine), one_core(theirs)) if same_machine else None,
        same_machine,
        (
            widest_within(mine),
            widest_within(theirs),
            widest_between(mine, theirs) if same_machine else None,
        ),
        level,
        max(level or 1.0, level_all or 1.0) if same_machine else None,
    )


def fingerprint(experiments: dict[str, dict[str, Any]]) -> str:
    """A run's measurements, whatever its folder is called: equal for a copy."""
    content = {name: document.get("data") for name, document in experiments.items()}
    return hashlib.sha256(dumps(content).encode()).hexdigest()


def check_options(alpha: float, min_ratio: float) -> None:
    """The levels a user can set, refused with one line where they make no sense."""
    if not (math.isfinite(alpha) and 0 < alpha < 1):
        raise DiffRefused(f"--alpha {alpha}: must be a number between 0 and 1 (e.g. 0.01)")
    if not (math.isfinite(min_ratio) and min_ratio >= 1):
        raise DiffRefused(
            f"--min-ratio {min_ratio}: must be at least 1 (1.05 = differences under 5 % "
            "never count)"
        )


def diff(
    runs: Sequence[RunInput],
    *,
    baseline: int = 0,
    alpha: float = 0.01,
    min_ratio: float = 1.05,
    force: bool = False,
) -> DiffResult:
    check_options(alpha, min_ratio)
    if len(runs) < 2:
        raise DiffRefused("give at least two runs to compare")
    if not 0 <= baseline < len(runs):
        raise DiffRefused(
            f"--baseline {baseline}: there are {len(runs)} runs (0 … {len(runs) - 1})"
        )
    names = [n for n in declaration.names() if any(n in r.experiments for r in runs)]
    result = DiffResult(list(runs), baseline, machine_differences(runs), alpha, min_ratio)
    for name in names:
        present = [r for r in runs if name in r.experiments]
        if len(present) < len(runs):
            missing = ", ".join(r.label for r in runs if name not in r.experiments)
            result.only_in_some.append(f"{name} (missing in {missing})")
        result.config_differences += _config_differences(present, name)
    if result.config_differences and not force:
        raise DiffRefused(
            "different experiment settings, so timings are not comparable ("
            + "; ".join(result.config_differences)
            + "); --force compares anyway"
        )
    base = runs[baseline]
    base_print = fingerprint(base.experiments)
    pending: list[tuple[int, str, Metric, list[list[float]], list[list[float]]]] = []
    for index, run in enumerate(runs):
        if index == baseline:
            continue
        if fingerprint(run.experiments) == base_print:
            result.copies.append(index)
        same = not machine_differences([base, run])["identity"]
        result.drift[index] = pair_drift(base, run, same)
        for name in names:
            if name not in base.experiments or name not in run.experiments:
                continue
            ours = timing_metrics(base.experiments[name])
            theirs = timing_metrics(run.experiments[name])
            for key, metric in ours.items():
                if key in theirs:
                    pending.append(
                        (
                            index,
                            name,
                            metric,
                            process_values(base.experiments[name], metric),
                            process_values(run.experiments[name], theirs[key]),
                        )
                    )
    # one family for the whole diff: every timing of every run against the baseline, each
    # by the processes rule where both sides have the processes, else the repeats rule
    measured, guards = [], []
    for index, _name, metric, mine, other in pending:
        drift = result.drift[index]
        if by_processes(mine, other):
            measured.append(measure_processes(mine, other))
            guards.append(drift.guard_for(metric))
        else:
            measured.append(measure(mine[0], other[0]))
            guards.append(drift.allowance_for(metric))
    decided = decide(measured, alpha=alpha, min_ratio=min_ratio, drift=guards)
    for index in result.drift:
        result.rows[index] = []
    for (index, name, metric, mine, other), comparison in zip(pending, decided, strict=True):
        processes = (len(mine), len(other)) if comparison.rule == PROCESSES else (1, 1)
        flat_mine = [v for group in mine for v in group] if processes[0] > 1 else mine[0]
        flat_other = [v for group in other for v in group] if processes[1] > 1 else other[0]
        result.rows[index].append(Row(name, metric, flat_mine, flat_other, comparison, processes))
    return result


def load_inputs(paths: Sequence[Path]) -> list[RunInput]:
    runs = []
    for path in paths:
        if not path.exists():
            raise ResultFormatError(path, "", "no such run folder or file")
        runs.append(load_input(path))
    return runs
