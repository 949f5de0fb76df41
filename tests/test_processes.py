"""Timings from several processes: the workers that measure them again after a run, and the
diff's rule for them (the moderated t test on the processes' medians; its statistics are
checked against SciPy in test_moderated.py)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import random
import shutil
import statistics
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

from experiments.contract import declaration
from experiments.contract import format as rf
from experiments.contract.drift import level_shift
from experiments.contract.moderated import NO_PRIOR, fit_prior
from experiments.contract.moderated import two_runs as run_model
from experiments.core import cli as run_cli
from experiments.core import replicas
from experiments.core.harness import Progress, RunContext
from experiments.suite import cpu_vs_gpu, data_parallel, step_overhead
from report.diff.compare import diff, load_inputs
from report.diff.processes import MIN_PROCESSES, process_values
from report.diff.stats import (
    FASTER,
    MIN_TIMINGS_FOR_PRIOR,
    PROCESSES,
    REPEATS,
    SLOWER,
    WITHIN_DRIFT,
    WITHIN_NOISE,
    beyond_processes,
    decide,
    measure_processes,
)
from tests.conftest import FIXTURES

CLASS_FIXTURES = FIXTURES.parent / "class"


def test_the_level_shift_is_the_ratio_of_geometric_means() -> None:
    assert level_shift([1.0, 4.0], [2.0, 2.0]) == pytest.approx(1.0)
    assert level_shift([1.0, 1.0], [1.1, 1.3]) == pytest.approx(math.sqrt(1.1 * 1.3))
    assert level_shift([2.0], [1.0]) == pytest.approx(2.0)  # slower or faster: 1 or more
    assert level_shift([], [1.0]) is None


def _groups(level: float, spread: float, rng: random.Random, k: int = 5) -> list[list[float]]:
    """k processes, each with its own level (log-normal, `spread`) and 20 noisy values."""
    levels = [level * math.exp(rng.gauss(0, spread)) for _ in range(k)]
    return [[own * rng.lognormvariate(0, 0.05) for _ in range(20)] for own in levels]


def test_one_timing_alone_is_the_run_models_t_test_on_log_medians() -> None:
    """Below MIN_TIMINGS_FOR_PRIOR timings there is no prior: the t test of the run model
    (the run's own process first; a steady offset of it from the workers is fitted)."""
    rng = random.Random(3)
    base, other = _groups(1e-4, 0.03, rng), _groups(1.3e-4, 0.03, rng)
    measured = measure_processes(base, other)
    logs_a = [math.log(statistics.median(g)) for g in base]
    logs_b = [math.log(statistics.median(g)) for g in other]
    assert measured.rule == PROCESSES and measured.groups == (tuple(logs_a), tuple(logs_b))
    # equal sizes: the ratio of the geometric means
    assert measured.ratio == pytest.approx(
        math.exp(statistics.fmean(logs_b) - statistics.fmean(logs_a))
    )
    # the model's residuals: each run's workers about their mean, and the two runs' own
    # processes' offsets about their common offset (k = 5 a side, 7 degrees of freedom)
    offsets = [logs[0] - statistics.fmean(logs[1:]) for logs in (logs_a, logs_b)]
    squares = sum(statistics.variance(logs[1:]) * 3 for logs in (logs_a, logs_b))
    variance = (squares + 0.8 / 2 * (offsets[0] - offsets[1]) ** 2) / 7
    se = math.sqrt(variance * 2 / 5)
    difference = statistics.fmean(logs_b) - statistics.fmean(logs_a)
    half = stats.t.ppf(0.975, 7) * se
    assert measured.interval == pytest.approx(
        (math.exp(difference - half), math.exp(difference + half))
    )
    (decided,) = decide([measured], alpha=0.01, min_ratio=1.05, drift=[1.1])
    expected = stats.t.sf((difference - math.log(1.1)) / se, 7)
    assert decided.p_value == pytest.approx(min(1.0, 2 * expected), rel=1e-9)
    assert decided.interval == pytest.approx(measured.interval)
    assert decided.threshold == 1.1 and decided.verdict == SLOWER


def test_between_process_spread_decides_what_is_real() -> None:
    """The same 1.3× with processes that agree is SLOWER; with processes that move 20 %
    apart it is not; and a 1.3× below a 1.4× level shift is "≈ drift"."""
    rng = random.Random(5)
    tight = measure_processes(_groups(1e-4, 0.02, rng), _groups(1.3e-4, 0.02, rng))
    loose = measure_processes(_groups(1e-4, 0.2, rng), _groups(1.3e-4, 0.2, rng))
    shifted = measure_processes(_groups(1e-4, 0.02, rng), _groups(1.3e-4, 0.02, rng))
    faster = measure_processes(_groups(1.3e-4, 0.02, rng), _groups(1e-4, 0.02, rng))
    decided = decide(
        [tight, loose, shifted, faster], alpha=0.01, min_ratio=1.05, drift=[1.0, 1.0, 1.4, 1.0]
    )
    assert [d.verdict for d in decided][0::3] == [SLOWER, FASTER]
    assert decided[1].verdict not in (SLOWER, FASTER)
    assert decided[2].verdict == WITHIN_DRIFT


@pytest.mark.slow
def test_a_a_with_processes_cries_wolf_at_most_alpha() -> None:
    """Simulated A/A diffs of 30 timings, 5 processes a side whose levels move 3–15 %: the
    share of diffs with any SLOWER/faster stays at or below α (here 0.05, to count some)."""
    rng = random.Random(11)
    trials, alarms = 400, 0
    for _ in range(trials):
        measured = [
            measure_processes(_groups(1e-4, spread, rng), _groups(1e-4, spread, rng))
            for spread in [0.03 + 0.12 * i / 29 for i in range(30)]
        ]
        decided = decide(measured, alpha=0.05, min_ratio=1.05, drift=[1.0] * 30)
        alarms += any(d.verdict in (SLOWER, FASTER) for d in decided)
    assert alarms / trials <= 0.05


def test_replica_configurations_are_shorter_and_valid() -> None:
    for name in declaration.names():
        declared = declaration.get(name)
        for profile in declaration.PROFILE_NAMES:
            config = declared.profiles[profile]
            replica = replicas.replica_config(name, config)
            if replica is None:
                # no timings, or the notes' 20 000-epoch loop (seconds a value)
                assert name == "memory_breakdown" or (name, profile) == (
                    "logging_interval",
                    "default",
                )
                continue
            # data parallelism's values are repeats (chunks of one repeat see one moment)
            repeats = min(3, config.repeats) if name == "data_parallel" else 1
            assert isinstance(replica, declared.config) and replica.repeats == repeats
            again = replicas.config_from_record(declared.config, dataclasses.asdict(replica))
            assert again == replica  # the worker rebuilds exactly what the parent sent
    steps = replicas.replica_config("step_overhead", step_overhead.DECLARATION.profiles["default"])
    assert steps is not None and "compiled" not in steps.variants
    default = cpu_vs_gpu.DECLARATION.profiles["default"]
    iris = replicas.replica_config("cpu_vs_gpu", default)
    assert iris is not None and iris.epochs == default.chunk_epochs
    parallel = replicas.replica_config(
        "data_parallel", data_parallel.DECLARATION.profiles["default"]
    )
    assert parallel is not None
    assert (parallel.steps, parallel.repeats, parallel.check_steps) == ((25, 2), 3, 1)
    assert (parallel.allreduce_sizes, parallel.allreduce_rounds) == ((4096, 16384), 1)
    quick = data_parallel.DECLARATION.profiles["quick"]
    quick_replica = replicas.replica_config("data_parallel", quick)
    assert quick_replica is not None and quick_replica.steps == (10, 1)
    # a run spanning machines: a worker cannot call the other machines back
    spanning = dataclasses.replace(quick, nnodes=2, rdzv_endpoint="10.0.0.1:29500")
    assert replicas.replica_config("data_parallel", spanning) is None


def test_the_rounds_turn_the_order() -> None:
    names = ["a", "b", "c"]
    assert [replicas.order(names, r) for r in (1, 2, 3, 4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]
    assert replicas.order([], 2) == []


def _scheduled_rounds(
    monkeypatch: pytest.MonkeyPatch, profile: str, workers: int, held: dict[str, int]
) -> dict[int, list[str]]:
    """The experiments each worker round launches, for every experiment with a replica, with
    `held` processes already in the files (a resumed run); the files and the launch are
    stand-ins that record what the parent asks for."""
    documents = {
        name: {"processes": [{"round": r + 1, "values": {}} for r in range(held.get(name, 0))]}
        for name in declaration.names()
    }
    launched: dict[int, list[str]] = {}

    def launch(_run_dir: Path, spec: dict[str, Any], _timeout_s: float) -> dict[str, Any]:
        names = [item["name"] for item in spec["experiments"]]
        launched[len(launched) + 1] = sorted(names)
        return {name: {"values": {}} for name in names}

    monkeypatch.setattr(replicas, "read_document", lambda path, _kind: documents[path.stem])
    monkeypatch.setattr(
        replicas, "write_document", lambda path, doc: documents.__setitem__(path.stem, doc)
    )
    monkeypatch.setattr(replicas, "_launch", launch)
    monkeypatch.setattr(replicas, "_timeout", lambda _run_dir, _names: 1.0)
    configs = {n: declaration.get(n).profiles[profile] for n in declaration.names()}
    ctx = RunContext(Progress(enabled=False), 2)
    replicas.run_replicas(
        Path("run"), list(configs), configs, {"cpu": {"model": "CPU"}}, workers, ctx, 0.0, profile
    )
    return launched


def test_data_parallel_sits_out_the_last_default_round(monkeypatch: pytest.MonkeyPatch) -> None:
    every = [
        "batch_size_scaling",
        "cpu_vs_gpu",
        "data_parallel",
        "mixed_precision",
        "step_overhead",
    ]
    without = [n for n in every if n != "data_parallel"]
    # the default profile: 3 rounds, data parallelism's launch only in the first two
    assert _scheduled_rounds(monkeypatch, "default", 3, {}) == {1: every, 2: every, 3: without}
    # --workers 5 in the default profile: it still sits out one, the last
    five = _scheduled_rounds(monkeypatch, "default", 5, {})
    assert [five[r] for r in (1, 2, 3, 4, 5)] == [every, every, every, every, without]
    # quick keeps it in every round (logging_interval has a replica there too)
    quick = sorted([*every, "logging_interval"])
    assert _scheduled_rounds(monkeypatch, "quick", 4, {}) == {r: quick for r in (1, 2, 3, 4)}
    # a resumed default run whose data parallelism already has its two processes
    held = {name: 2 for name in every}
    assert _scheduled_rounds(monkeypatch, "default", 3, held) == {1: without}
    # one worker in the default profile: data parallelism is measured in its own process only
    assert _scheduled_rounds(monkeypatch, "default", 1, {}) == {1: without}


def test_sitting_out_rounds_is_checked_where_declared() -> None:
    declared = data_parallel.DECLARATION
    assert [declared.worker_rounds(p, 3) for p in ("smoke", "quick", "default")] == [3, 3, 2]
    assert declared.worker_rounds("default", 0) == 0
    assert declaration.get("memory_breakdown").worker_rounds("default", 3) == 0  # no replica
    with pytest.raises(ValueError, match="replica_sits_out 'default': -1"):
        dataclasses.replace(declared, replica_sits_out={"default": -1})
    with pytest.raises(ValueError, match="replica_sits_out 'fast'"):
        dataclasses.replace(declared, replica_sits_out={"fast": 1})


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A smoke run of two experiments with two workers after it, and a copy of it under
    another label (the diff's rule is what is tested here, not the machine)."""
    results = tmp_path_factory.mktemp("processes")
    args = ["--profile", "smoke", "--quiet", "--results", str(results), "--workers", "2"]
    only = ["--only", "logging_interval,memory_breakdown"]
    assert run_cli.main([*args, *only, "--label", "first"]) == 0
    first = next((results / "first").iterdir())
    second = results / "second" / first.name
    shutil.copytree(first, second)
    return [first, second]


@pytest.mark.slow
def test_workers_add_each_timing_from_fresh_processes(two_runs: list[Path]) -> None:
    run = two_runs[0]
    assert rf.read_document(run / "run.json")["workers"] == 2
    document = rf.read_document(run / "logging_interval.json")
    processes = document["processes"]
    assert [p["round"] for p in processes] == [1, 2]
    assert all("error" not in p for p in processes)
    keys = {m.key for m in declaration.get("logging_interval").metrics(document["data"])}
    assert all(set(p["values"]) == keys for p in processes)
    assert "processes" not in rf.read_document(run / "memory_breakdown.json")  # no timings


@pytest.mark.slow
def test_the_judge_can_keep_each_runs_first_workers_only(two_runs: list[Path]) -> None:
    """benchmarks/comparisons.py --keep-workers K: the same runs, judged as if each had
    stopped after K workers, so what each worker adds is measured on one set of runs."""
    spec = importlib.util.spec_from_file_location(
        "comparisons", FIXTURES.parent.parent.parent / "benchmarks" / "comparisons.py"
    )
    assert spec is not None and spec.loader is not None
    judge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(judge)

    def rounds(keep: int | None) -> list[int]:
        (run, _copy) = judge.load_kept(two_runs, keep)
        return [p["round"] for p in run.experiments["logging_interval"].get("processes", [])]

    assert [rounds(None), rounds(2), rounds(1), rounds(0)] == [[1, 2], [1, 2], [1], []]
    first = judge.verdict_counts(two_runs[0], two_runs[1], 0.01, keep_workers=1)
    both = judge.verdict_counts(two_runs[0], two_runs[1], 0.01)
    # with one worker a side (2 processes) no timing reaches the processes rule's 3
    assert {rule for _e, rule, _v, _t in first["rows"]} == {REPEATS}
    assert PROCESSES in {rule for _e, rule, _v, _t in both["rows"]}


@pytest.mark.slow
def test_the_diff_decides_timings_with_processes_by_their_medians(
    two_runs: list[Path], tmp_path: Path
) -> None:
    result = diff(load_inputs(two_runs))
    rows = result.rows[1]
    assert rows and all(r.comparison.rule == PROCESSES for r in rows)
    assert all(r.processes == (3, 3) == (MIN_PROCESSES, MIN_PROCESSES) for r in rows)
    for row in rows:
        assert row.comparison.verdict in (WITHIN_NOISE, WITHIN_DRIFT, SLOWER, FASTER, "cannot tell")
        assert row.comparison.threshold == pytest.approx(
            max(1.05, result.drift[1].guard_for(row.metric))
        )
    # without the workers' values the same pair falls back to the repeats rule
    for run in two_runs:
        path = run / "logging_interval.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        document.pop("processes")
        rf.write_document(tmp_path / run.name / "logging_interval.json", document)
    document = rf.read_document(two_runs[0] / "logging_interval.json")
    metric = next(iter(declaration.get("logging_interval").metrics(document["data"])))
    assert len(process_values(document, metric)) == 3
    single = diff(load_inputs([tmp_path / r.name / "logging_interval.json" for r in two_runs]))
    assert {r.comparison.rule for r in single.rows[1]} == {REPEATS}


def test_the_class_page_decides_timings_with_processes_as_the_diff_does(tmp_path: Path) -> None:
    """Two machines of the class fixture, each given two workers' values (the run's own
    values scaled, a stand-in for real workers): each comparison with the class median uses
    the processes rule and gives the diff's ratio, p and threshold."""
    from report.classview import group, rank
    from report.classview.collect import collect
    from report.diff.processes import timing_metrics

    drive = tmp_path / "drive"
    for label, factors in (("lab-pc-1", (0.97, 1.04)), ("张三的笔记本", (1.06, 0.99))):
        source = max((CLASS_FIXTURES / label).iterdir())
        copy = drive / label / source.name
        shutil.copytree(source, copy)
        for path in copy.glob("*.json"):
            document = rf.read_document(path)
            if document.get("kind") != "experiment" or document["status"] != "ok":
                continue
            metrics = timing_metrics(document)
            document["processes"] = [
                {
                    "round": r,
                    "at_s": 60.0 * r,
                    "values": {k: [v * f for v in m.values] for k, m in metrics.items()},
                }
                for r, f in enumerate(factors, start=1)
            ]
            rf.write_document(path, document)
    collected = collect([drive])
    assert len(collected.runs) == 2
    result = rank.build(
        collected, group.cohorts(collected.runs, group.machine_names(collected.runs))
    )
    rankings = [
        ranking
        for cohort in result.cohorts
        for experiment in cohort.experiments
        for view in experiment.groups
        for ranking in view.rankings
    ]
    # the page's family of processes-rule timings lends its own prior, as a diff's does
    family = [
        f.comparison.groups
        for ranking in rankings
        for f in ranking.figures
        if f.comparison is not None and f.comparison.groups is not None
    ]
    contrasts = [run_model(*groups) for groups in family]
    prior = (
        fit_prior([c.variance for c in contrasts], [c.df for c in contrasts])
        if len(family) >= MIN_TIMINGS_FOR_PRIOR
        else NO_PRIOR
    )
    checked = 0
    for ranking in rankings:
        medians = [f for f in ranking.figures if f.is_median]
        if not medians:
            continue
        (median,) = medians
        for figure in ranking.figures:
            comparison = figure.comparison
            if comparison is None or comparison.ratio is None:
                continue
            assert len(figure.processes) == len(median.processes) == MIN_PROCESSES
            assert comparison.rule == PROCESSES
            pair = [median.runs[0].directory, figure.runs[0].directory]
            assert figure.metric is not None
            key = figure.metric.key
            (row,) = [r for r in diff(load_inputs(pair), force=True).rows[1] if r.metric.key == key]
            assert row.comparison.rule == PROCESSES
            assert comparison.ratio == pytest.approx(row.comparison.ratio, rel=1e-12)
            assert comparison.groups == row.comparison.groups
            assert comparison.threshold == pytest.approx(row.comparison.threshold, rel=1e-12)
            assert comparison.groups is not None and comparison.threshold is not None
            expected, _direction = beyond_processes(*comparison.groups, comparison.threshold, prior)
            assert comparison.p_value == pytest.approx(expected.p_value, rel=1e-12)
            checked += 1
    assert checked >= 3  # the timed headlines of the experiments both machines ran
