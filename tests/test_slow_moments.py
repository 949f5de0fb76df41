"""A worker that ran an experiment in a moment of its own is left out of the processes rule,
judged inside its run only, and the diff says which one it left out; where few processes left
timings uncalled, it says what more workers would buy."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from experiments.contract import format as rf
from report.diff import method, views
from report.diff.compare import diff, load_inputs
from report.diff.document import document as diff_document
from report.diff.processes import SLOW_MOMENT, process_values, slow_moments, timing_metrics
from report.diff.stats import FASTER, PROCESSES, SLOWER
from report.words import i18n
from tests.conftest import FIXTURES

LAB_PC = FIXTURES.parent / "class" / "lab-pc-1"


def _with_workers(
    source: Path,
    target: Path,
    factors: list[float],
    *,
    one_timing: float | None = None,
) -> Path:
    """A copy of a real run whose step_overhead gets workers: each round the run's own
    values times its factor (a stand-in for a worker); `one_timing` puts that factor on one
    timing of round 1 only."""
    shutil.copytree(source, target)
    path = target / "step_overhead.json"
    document = rf.read_document(path)
    metrics = timing_metrics(document)
    document["processes"] = []
    for round_, factor in enumerate(factors, start=1):
        values = {}
        for index, (key, metric) in enumerate(sorted(metrics.items())):
            own = factor
            if one_timing is not None and round_ == 1:
                own = one_timing if index == 0 else 1.0
            values[key] = [v * own for v in metric.values]
        document["processes"].append({"round": round_, "at_s": 10.0 * round_, "values": values})
    rf.write_document(path, document)
    return target


def _step_overhead(run: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((run / "step_overhead.json").read_text(encoding="utf-8"))
    return document


def test_a_worker_off_on_the_whole_experiment_is_left_out(tmp_path: Path) -> None:
    (source, _) = sorted(LAB_PC.iterdir())
    run = _with_workers(source, tmp_path / "a", [1.02, 1.9, 0.98, 1.01])
    document = _step_overhead(run)
    found = slow_moments(document)
    assert list(found) == [2]
    # the median of its offsets from the median process: 1.9 over the median of
    # (1, 1.02, 1.9, 0.98, 1.01), which is 1.01
    assert found[2] == pytest.approx(1.9 / 1.01)
    metric = next(iter(timing_metrics(document).values()))
    groups = process_values(document, metric)
    assert len(groups) == 4  # the run's own and three workers, not round 2
    assert [v * 1.9 for v in metric.values] not in groups


def test_only_beyond_the_bound_and_only_for_the_whole_experiment(tmp_path: Path) -> None:
    (source, _) = sorted(LAB_PC.iterdir())
    below = SLOW_MOMENT / 1.01
    above = SLOW_MOMENT * 1.01
    assert slow_moments(_step_overhead(_with_workers(source, tmp_path / "b", [1, below]))) == {}
    assert list(
        slow_moments(_step_overhead(_with_workers(source, tmp_path / "c", [1, above])))
    ) == [2]
    # faster by as much counts too: a moment of its own either way
    faster = _with_workers(source, tmp_path / "d", [1, 1, 1 / above])
    assert list(slow_moments(_step_overhead(faster))) == [3]
    # one timing 3× off in one worker, the rest of its timings alike: kept
    one = _with_workers(source, tmp_path / "e", [1, 1, 1], one_timing=3.0)
    assert slow_moments(_step_overhead(one)) == {}
    # a single worker has nobody to be judged against but the run's own process: kept
    assert slow_moments(_step_overhead(_with_workers(source, tmp_path / "f", [2.0]))) == {}


def test_the_diff_leaves_the_worker_out_and_says_so(tmp_path: Path) -> None:
    first, second = sorted(LAB_PC.iterdir())
    a = _with_workers(first, tmp_path / "lab-a", [1.01, 0.99, 1.0, 1.02])
    b = _with_workers(second, tmp_path / "lab-b", [1.0, 1.02, 2.2, 0.98])
    result = diff(load_inputs([a, b]), force=True)
    rows = [r for r in result.rows[1] if r.experiment == "step_overhead"]
    by_processes = [r for r in rows if r.comparison.rule == PROCESSES]
    assert by_processes and all(r.processes == (5, 4) for r in by_processes)
    (left,) = result.left_out(1)
    assert (left.experiment, left.round) == ("step_overhead", 3)
    assert left.ratio == pytest.approx(2.2, rel=0.03)
    label = result.runs[1].label
    pair = diff_document(result)["pairs"][0]
    assert pair["left_out"] == [
        {"label": label, "experiment": "step_overhead", "round": 3, "ratio": left.ratio}
    ]
    sentence = method.rules_sentence(result.rows[1], result.drift[1], result.left_out(1))
    assert sentence is not None and f"{label}, step_overhead, worker 3" in sentence
    with i18n.using("zh"):
        chinese = method.rules_sentence(result.rows[1], result.drift[1], result.left_out(1))
    assert chinese is not None and "step_overhead" in chinese and "Left out" not in chinese
    assert math.isfinite(left.ratio)


@pytest.mark.parametrize(
    ("first_workers", "second_workers", "fewest"),
    [(4, 4, 5), (5, 2, 3), (5, 5, None), (6, 5, None)],
)
def test_the_diff_points_at_more_workers_only_below_six_processes_a_side(
    tmp_path: Path, first_workers: int, second_workers: int, fewest: int | None
) -> None:
    """Below six processes a side (a run's own and five workers; the default profile has
    four) the sentence says how many timings went uncalled and from how few processes, the
    fewer of the two sides; from six a side on it is not shown."""
    first, second = sorted(LAB_PC.iterdir())
    factors = [1.01, 0.99, 1.0, 1.02, 0.98, 1.03]
    a = _with_workers(first, tmp_path / "a", factors[:first_workers])
    b = _with_workers(second, tmp_path / "b", factors[:second_workers])
    result = diff(load_inputs([a, b]), force=True)
    by_processes = [r for r in result.rows[1] if r.comparison.rule == PROCESSES]
    assert {r.processes for r in by_processes} == {(first_workers + 1, second_workers + 1)}
    uncalled = [r for r in by_processes if r.comparison.verdict not in (SLOWER, FASTER)]
    assert uncalled
    sentence = method.rules_sentence(result.rows[1], result.drift[1])
    assert sentence is not None and "--workers" not in sentence
    shown = [views.terminal(result), views.markdown(result), views.html(result)]
    if fewest is None:
        assert method.more_workers(result.rows[1]) is None
        assert not any("--workers" in text for text in shown)
        return
    before = (
        f"Of the {len(by_processes)} timings from several processes, {len(uncalled)} were not "
        f"called SLOWER or faster, from as few as {fewest} processes a side. Runs made with more "
        "workers ("
    )
    after = (
        " for both) give each timing more processes to average and show more closely how far "
        "it moves between them, so the diff can call smaller changes."
    )
    assert method.more_workers(result.rows[1]) == (before, after)
    terminal, markdown_text, html_text = shown
    assert f"{before}--workers N{after}" in terminal
    assert f"`--workers N`{after}" in markdown_text
    # a PDF line must not break inside the option a reader is to type
    assert '(<code class="nowrap">--workers N</code> for both)' in html_text
    with i18n.using("zh"):
        chinese = method.more_workers(result.rows[1])
    assert chinese is not None and "Runs made" not in "".join(chinese)
    assert f"每方最少只有 {fewest} 个进程" in chinese[0] and chinese[0].endswith("工作进程（")
