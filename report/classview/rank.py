"""Each experiment's headline figures across a class's machines: ranked, and tested against
the class median with the diff's own tests.

The figures come from the experiments' sections (`headlines`), so nothing here names an
experiment. A figure backed by a timing metric is the median of that metric's raw values:
from the machine's latest run, or pooled over all its runs of those settings (`pooled`).
Such a figure is compared with the machine at the class median (the lower median of the
group's figures) exactly as the diff compares two runs: where both latest runs hold the
timing from enough processes (`by_processes`) (their workers'), the moderated t test on
the processes' log medians (its prior from the page's own such timings); else the rank
test on the raw values against the median machine's scaled by a threshold, the threshold
the larger of the minimum ratio and the two machines' own measured drift; one family for
the whole page (Tarone's choice of the testable, then Holm's correction), so the chance of
any false "slower" or "faster" anywhere on the page stays at most α. Pooled runs are
several runs' values, not one run's processes: they keep the rank test.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from experiments.contract import declaration
from experiments.contract.declaration import Metric
from report.classview.collect import Collected
from report.classview.group import Cohort, Machine, SettingsGroup, settings_groups
from report.diff.compare import RunInput, machine_differences, pair_drift
from report.diff.processes import by_processes, process_values, timing_metrics
from report.diff.stats import Comparison, decide, measure, measure_processes
from report.render import sections
from report.render.load import RunResults


@dataclass
class Figure:
    """One headline figure of one machine."""

    machine: Machine
    headline: sections.Headline
    value: float | None
    values: list[float] = field(default_factory=list)  # the metric's raw values, if any
    runs: list[RunResults] = field(default_factory=list)  # the runs they come from
    metric: Metric | None = None
    comparison: Comparison | None = None  # against the median machine
    is_median: bool = False
    # the latest run's values process by process (its own, then its workers'), if not pooled
    processes: list[list[float]] = field(default_factory=list)

    @property
    def cv(self) -> float | None:
        """The raw values' coefficient of variation (their spread; None without them)."""
        if len(self.values) < 2:
            return None
        mean = statistics.fmean(self.values)
        return statistics.stdev(self.values) / mean if mean else None


@dataclass
class Ranking:
    """One headline across a settings group's machines, the best first (unranked facts keep
    the machines' order; machines without the figure come last)."""

    key: str
    label: str
    unit: str
    better: str
    figures: list[Figure]

    @property
    def median(self) -> Figure | None:
        return next((f for f in self.figures if f.is_median), None)

    @property
    def tested(self) -> bool:
        return any(f.comparison is not None for f in self.figures)


@dataclass
class GroupView:
    group: SettingsGroup
    rankings: list[Ranking]


@dataclass
class ExperimentView:
    name: str
    groups: list[GroupView]
    extras: list[sections.SideBySide] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


@dataclass
class CohortView:
    cohort: Cohort
    experiments: list[ExperimentView]


@dataclass
class ClassResult:
    collected: Collected
    cohorts: list[CohortView]
    alpha: float
    min_ratio: float
    pooled: bool

    @property
    def comparisons(self) -> list[Comparison]:
        return [
            f.comparison
            for cohort in self.cohorts
            for experiment in cohort.experiments
            for group in experiment.groups
            for ranking in group.rankings
            for f in ranking.figures
            if f.comparison is not None
        ]

    @property
    def tested(self) -> int:
        """How many comparisons the family-wise correction covered."""
        return sum(1 for c in self.comparisons if c.adjusted_p is not None)


def _figures(name: str, machine: Machine, runs: list[RunResults], pooled: bool) -> list[Figure]:
    latest = runs[-1]
    document = latest.experiments[name]
    found = []
    for headline in sections.headlines(name, document, latest.environment):
        if headline.metric is None:
            found.append(Figure(machine, headline, headline.value, runs=[latest]))
            continue
        used = runs if pooled else [latest]
        metrics = [timing_metrics(r.experiments[name]).get(headline.metric) for r in used]
        values = [v for m in metrics if m is not None for v in m.values]
        metric = next((m for m in metrics if m is not None), None)
        value = statistics.median(values) if values else None
        figure = Figure(machine, headline, value, values, used, metric)
        if not pooled and metric is not None:
            figure.processes = process_values(latest.experiments[name], metric)
        found.append(figure)
    return found


def _order(figures: list[Figure], better: str) -> list[Figure]:
    known = [f for f in figures if f.value is not None]
    unknown = [f for f in figures if f.value is None]
    if better in ("lower", "higher"):
        known.sort(key=lambda f: f.value or 0.0, reverse=better == "higher")
    return known + unknown


def _rankings(name: str, group: SettingsGroup, pooled: bool) -> list[Ranking]:
    by_key: dict[str, Ranking] = {}
    for machine, runs in group.members:
        for figure in _figures(name, machine, runs, pooled):
            h = figure.headline
            ranking = by_key.setdefault(h.key, Ranking(h.key, h.label, h.unit, h.better, []))
            ranking.figures.append(figure)
    for ranking in by_key.values():
        ranking.figures = _order(ranking.figures, ranking.better)
    return list(by_key.values())


class _Drift:
    """Two machines' drift allowance for a metric, each pair of runs computed once."""

    def __init__(self) -> None:
        self._inputs: dict[int, RunInput] = {}
        self._pairs: dict[tuple[int, int], Any] = {}

    def _input(self, run: RunResults) -> RunInput:
        key = id(run)
        if key not in self._inputs:
            manifest = run.manifest
            self._inputs[key] = RunInput(
                manifest["label"],
                manifest["run_id"],
                run.directory,
                run.environment,
                run.experiments,
            )
        return self._inputs[key]

    def guard(self, first: Figure, second: Figure) -> float:
        """What a timing decided from processes must clear: the shift of the machine's level
        between two runs of one machine (the diff's `guard_for`; 1.0 between machines)."""
        metric = second.metric or first.metric
        widest = 1.0
        for a in first.runs:
            for b in second.runs:
                drift = self._pair(a, b)
                widest = max(widest, drift.guard_for(metric) if metric else 1.0)
        return widest

    def _pair(self, a: RunResults, b: RunResults) -> Any:
        key = (id(a), id(b))
        if key not in self._pairs:
            mine, theirs = self._input(a), self._input(b)
            same = not machine_differences([mine, theirs])["identity"]
            self._pairs[key] = pair_drift(mine, theirs, same)
        return self._pairs[key]

    def allowance(self, first: Figure, second: Figure) -> float:
        metric = second.metric or first.metric
        widest = 1.0
        for a in first.runs:
            for b in second.runs:
                drift = self._pair(a, b)
                widest = max(widest, drift.allowance_for(metric) if metric else drift.allowance)
        return widest


def build(
    collected: Collected,
    cohorts: Sequence[Cohort],
    *,
    pooled: bool = False,
    alpha: float = 0.01,
    min_ratio: float = 1.05,
) -> ClassResult:
    views = []
    pending: list[tuple[Figure, Figure]] = []
    for cohort in cohorts:
        experiments = []
        for name in declaration.names():
            groups = settings_groups(cohort, name)
            if not groups:
                continue
            group_views = [GroupView(g, _rankings(name, g, pooled)) for g in groups]
            for view in group_views:
                for ranking in view.rankings:
                    pending += _against_median(ranking)
            main = groups[0]
            shown = [
                sections.Machine(m.label, runs[-1].experiments[name], runs[-1].environment, m.mine)
                for m, runs in main.members
            ]
            extras, sentences = sections.across_machines(name, shown)
            experiments.append(ExperimentView(name, group_views, extras, sentences))
        views.append(CohortView(cohort, experiments))
    drift = _Drift()
    measured, allowances = [], []
    for ref, fig in pending:
        if by_processes(ref.processes, fig.processes):
            measured.append(measure_processes(ref.processes, fig.processes))
            allowances.append(drift.guard(ref, fig))
        else:
            measured.append(measure(ref.values, fig.values, with_interval=False))
            allowances.append(drift.allowance(ref, fig))
    decided = decide(measured, alpha=alpha, min_ratio=min_ratio, drift=allowances)
    for (_ref, figure), comparison in zip(pending, decided, strict=True):
        figure.comparison = comparison
    return ClassResult(collected, views, alpha, min_ratio, pooled)


def _against_median(ranking: Ranking) -> list[tuple[Figure, Figure]]:
    """Each timed figure paired with the median machine's (marked as such)."""
    timed = [f for f in ranking.figures if f.values and f.value is not None]
    if len(timed) < 2:
        return []
    by_value = sorted(timed, key=lambda f: f.value or 0.0)
    reference = by_value[(len(by_value) - 1) // 2]
    reference.is_median = True
    return [(reference, f) for f in timed if f is not reference]
