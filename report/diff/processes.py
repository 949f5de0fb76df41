"""Which processes a timing's values come from: the run's own and its workers'
(experiments.core.replicas), less any worker that ran an experiment in a moment of its own;
and whether there are enough of them for the diff's processes rule."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from experiments.contract import declaration
from experiments.contract.declaration import Metric


def timing_metrics(document: dict[str, Any]) -> dict[str, Metric]:
    """An experiment's raw repeated timings by a key that matches across machines, as its
    declaration names them (the reader has already refused an undeclared experiment)."""
    if document["status"] != "ok":
        return {}
    metrics = declaration.get(document["experiment"]).metrics(document["data"])
    return {metric.key: metric for metric in metrics}


# A timing is decided from process medians where both sides have at least this many
# processes (the run's own and its workers', experiments.core.replicas); else from the
# values of the run's own process, held against the machines' whole drift.
MIN_PROCESSES = 3


def by_processes(mine: Sequence[Sequence[float]], other: Sequence[Sequence[float]]) -> bool:
    """Whether a timing with these values per process is decided by the processes rule
    (the diff's and the class page's one choice)."""
    return min(len(mine), len(other)) >= MIN_PROCESSES


# A worker whose timings of one experiment ran, by their median, more than this many times
# off the median process of its run met a slow (or fast) moment of the machine
SLOW_MOMENT = 1.25


def slow_moments(document: dict[str, Any]) -> dict[int, float]:
    """The workers (by their round) that ran this experiment in a moment of their own: the
    median, over the experiment's timings, of how far the worker's median sat from the
    median process of its run, where that is beyond SLOW_MOMENT either way (the ratio).
    A virtual machine whose neighbour wakes up for ten seconds makes one worker 1.5–2.6×
    slower on every timing of an experiment while the others agree within 5 %; kept, that
    one process would hide any change in the whole experiment. The decision looks only
    inside one run (a planted or real change moves every process of the run alike), and
    never at the run's own process, whose full configuration differs from the workers' by
    design."""
    entries = [e for e in document.get("processes", []) if "values" in e]
    if len(entries) < 2:
        return {}
    offsets: dict[int, list[float]] = {e["round"]: [] for e in entries}
    for metric in timing_metrics(document).values():
        logs = {}
        for entry in entries:
            values = entry["values"].get(metric.key)
            if values and all(math.isfinite(v) and v > 0 for v in values):
                logs[entry["round"]] = math.log(statistics.median(values))
        if metric.values and all(math.isfinite(v) and v > 0 for v in metric.values):
            own = math.log(statistics.median(metric.values))
        else:
            continue
        if len(logs) < 2:
            continue
        middle = statistics.median([own, *logs.values()])
        for round_, value in logs.items():
            offsets[round_].append(value - middle)
    found = {}
    for round_, values in offsets.items():
        if values:
            typical = statistics.median(values)
            if abs(typical) > math.log(SLOW_MOMENT):
                found[round_] = math.exp(typical)
    return found


def process_values(document: dict[str, Any], metric: Metric) -> list[list[float]]:
    """A timing's values process by process: the run's own, then each worker's, less the
    workers that ran the experiment in a moment of their own (`slow_moments`)."""
    left_out = slow_moments(document)
    groups = [list(metric.values)]
    for entry in document.get("processes", []):
        if entry.get("round") in left_out:
            continue
        values = entry.get("values", {}).get(metric.key)
        if values:
            groups.append(list(values))
    return groups


@dataclass(frozen=True)
class LeftOut:
    """A worker left out of the processes rule: it ran the experiment `ratio` times off the
    median process of its run (`slow_moments`)."""

    label: str
    experiment: str
    round: int
    ratio: float
