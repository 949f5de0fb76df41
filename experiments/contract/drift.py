"""The machine's own drift, as the runner records it and the diff reads it.

Every experiment's `conditions.reference` holds checkpoints of fixed
reference workloads (experiments.core.drift times them; version 3 files hold
the first only). Two numbers come from each workload's checkpoints, both
ratios of 1 or more, and the larger over the workloads counts:

- within a run: how far apart the reference's slowest and fastest checkpoints
  were (1.12 = the machine ran 12 % slower at one moment than at another);
- between two runs of one machine: the largest ratio between the reference
  at any moment of one run and at any moment of the other, so it holds both
  runs' own drift and any shift of the machine's speed from one run to the
  next.

A difference between two runs smaller than these cannot be told from the
machine changing its own speed, so the diff does not call it.

Which workloads count depends on the timing: one that ran on one core is held
against the one-core workloads (ONE_CORE); one that ran on several cores
(threads or processes) against the two-thread workload as well. A moment when
a neighbour took the second core slows two-thread work 10-20× on a shared
machine and one-thread work not at all, and must not blind the comparison of
the one-thread timings.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any


def checkpoint_values(record: dict[str, Any] | None) -> list[float]:
    """Each checkpoint's median reading (empty without a record)."""
    if not record:
        return []
    return [statistics.median(c["times_s"]) for c in record["checkpoints"]]


Series = dict[str, list[float]]  # per reference workload, each checkpoint's median reading

# The reference workloads by the names the result files give them (experiments.core.drift)
MLP_STEPS = "iris_mlp_steps"  # `workload`: the first, its readings in `times_s`
TINY_OPS = "tiny_ops"  # in `others`
TWO_THREADS = "two_threads"  # in `others`
ONE_CORE = (MLP_STEPS, TINY_OPS)  # the reference workloads that run on one core


def one_core(series: Series) -> Series:
    """The workloads that apply to a timing measured on one core."""
    return {name: values for name, values in series.items() if name in ONE_CORE}


def workload_series(record: dict[str, Any] | None) -> Series:
    """Each workload's checkpoint values: the first under its own name, the others under
    theirs (a checkpoint without a workload's readings adds nothing to it)."""
    if not record:
        return {}
    series: Series = {record["workload"]: checkpoint_values(record)}
    for checkpoint in record["checkpoints"]:
        for name, readings in checkpoint.get("others", {}).items():
            series.setdefault(name, []).append(statistics.median(readings))
    return series


def run_series(documents: Iterable[dict[str, Any]]) -> Series:
    """Every workload's checkpoints over a run's experiments, in the order they were taken."""
    merged: Series = {}
    for document in documents:
        found = workload_series(document.get("conditions", {}).get("reference"))
        for name, values in found.items():
            merged.setdefault(name, []).extend(values)
    return merged


def widest_within(series: Series) -> float | None:
    """The largest `within` over the workloads (None where none has two checkpoints)."""
    found = [w for values in series.values() if (w := within(values)) is not None]
    return max(found, default=None)


def widest_between(first: Series, second: Series) -> float | None:
    """The largest `between` over the workloads both runs timed."""
    found = [
        b for name in first.keys() & second.keys() if (b := between(first[name], second[name]))
    ]
    return max(found, default=None)


def within(values: Sequence[float]) -> float | None:
    """Slowest over fastest checkpoint (None with fewer than two checkpoints)."""
    if len(values) < 2:
        return None
    return max(values) / min(values)


def level(values: Sequence[float]) -> float | None:
    """The run's typical reference time: the median checkpoint."""
    return statistics.median(values) if values else None


def between(first: Sequence[float], second: Sequence[float]) -> float | None:
    """The largest ratio between the reference at any moment of one run and at any moment of
    the other: how far apart the machine's own speed was across the two runs (1.0: never).
    Meaningful for two runs of one machine only; between machines it is hardware too."""
    if not first or not second:
        return None
    return max(max(second) / min(first), max(first) / min(second))


def level_shift(first: Sequence[float], second: Sequence[float]) -> float | None:
    """How far the machine's typical speed moved from one run to the other: the ratio of the
    geometric means of the two runs' checkpoints, as 1 or more (1.0: not at all). Unlike
    `between`, a moment's excursion counts only by its share of the run: the diff's rule for
    timings with values from several processes sees moments through those processes, and is
    guarded only against the whole run's level moving."""
    if not first or not second:
        return None
    ratio = math.exp(
        statistics.fmean(math.log(v) for v in second) - statistics.fmean(math.log(v) for v in first)
    )
    return max(ratio, 1 / ratio)


def widest_level_shift(first: Series, second: Series) -> float | None:
    """The largest `level_shift` over the workloads both runs timed."""
    found = [
        s for name in first.keys() & second.keys() if (s := level_shift(first[name], second[name]))
    ]
    return max(found, default=None)


# Files from before `every_s` was recorded took a checkpoint about every 10 s.
OLDER_SPACING_S = 10.0


def spacing(documents: Iterable[dict[str, Any]]) -> float:
    """The widest time between checkpoints that these experiments' records name."""
    return max(
        (
            record["every_s"]
            for document in documents
            if (record := document["conditions"].get("reference")) and "every_s" in record
        ),
        default=OLDER_SPACING_S,
    )
