"""Each timing is held against the drift while its own experiment ran, where the reference
sampled that experiment densely, and against the whole run's where it did not."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from experiments.contract.drift import MAX_GAP_S, largest_gap, sampled_densely
from experiments.core import drift
from experiments.core.devices import CpuDevice
from experiments.core.harness import Progress, run_repeats
from report.diff import EXPERIMENT_WINDOW, RUN_WINDOW, diff, load_inputs
from report.diff_document import document
from report.diff_render import terminal
from report.stats import SLOWER
from tests.conftest import FIXTURES

IDLE = next((FIXTURES / "fixture-machine-a").iterdir())
CROSSOVER = ["step at N = 16, cpu", "step at N = 64, cpu", "step at N = 256, cpu"]
PLANTED = next((FIXTURES / "fixture-machine-c-planted").iterdir())


def _record(moments: list[float], timed_from: float | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "workload": "iris_mlp_steps",
        "steps": 40,
        "checkpoints": [{"at_s": at, "times_s": [0.02]} for at in moments],
    }
    if timed_from is not None:
        record["timed_from_s"] = timed_from
    return record


def test_the_largest_gap_counts_from_the_first_timed_repeat() -> None:
    # 37 s of compiling during the warm-ups, then checkpoints 2.8 s apart
    moments = [0.0, 37.3, 40.1, 42.9, 44.6]
    assert largest_gap(_record(moments)) == pytest.approx(37.3)
    assert not sampled_densely(_record(moments))
    assert largest_gap(_record(moments, timed_from=37.3)) == pytest.approx(2.8)
    assert sampled_densely(_record(moments, timed_from=37.3))
    # exactly the limit still counts; a hair over it does not
    assert sampled_densely(_record([0.0, MAX_GAP_S]))
    assert not sampled_densely(_record([0.0, MAX_GAP_S + 0.001]))
    # nothing to judge by: no record, or one checkpoint (in the timed part)
    assert largest_gap(None) is None and not sampled_densely(None)
    assert largest_gap(_record([0.0])) is None
    assert largest_gap(_record([0.0, 3.0], timed_from=3.0)) is None


def test_the_checkpoint_before_the_first_timed_repeat_is_marked() -> None:
    probe = drift.Probe(every_s=1000.0)
    probe.checkpoint(force=True)
    probe.timing_starts()  # one was just taken: it stands for the start of the timing
    assert len(probe.checkpoints) == 1 and probe.timed_from_s == 0.0
    later = drift.Probe(every_s=1000.0)
    later.checkpoint(force=True)
    time.sleep(drift.JUST_TAKEN_S + 0.1)
    later.timing_starts()
    assert len(later.checkpoints) == 2
    assert later.timed_from_s == later.checkpoints[1]["at_s"] > drift.JUST_TAKEN_S
    later.timing_starts()  # a second set of cases changes nothing
    assert len(later.checkpoints) == 2
    record = later.record()
    assert record["timed_from_s"] == later.checkpoints[1]["at_s"]
    assert record["every_s"] == 1000.0


def test_the_harness_marks_the_end_of_the_warm_ups() -> None:
    """Warm-ups that take longer than a moment (compiling, lazy loading) lie before the
    marked checkpoint, so the diff's gap rule does not count them."""
    calls = 0

    def prepare(_device: Any) -> Any:
        def body() -> None:
            nonlocal calls
            calls += 1
            if calls == 1:  # the warm-up
                time.sleep(drift.JUST_TAKEN_S + 0.2)

        return body

    with drift.probing(every_s=1000.0) as probe:
        run_repeats([CpuDevice()], prepare, warmup=1, repeats=2, progress=Progress(), what="t")
    moments = [c["at_s"] for c in probe.checkpoints]
    assert len(moments) == 3  # start, before the first timed repeat, end
    assert probe.record()["timed_from_s"] == moments[1] > drift.JUST_TAKEN_S


def _set_reference(run: Path, name: str, moments: list[float], levels: list[float]) -> None:
    """Replace an experiment's reference checkpoints: at `moments`, every workload read at
    its usual time times `levels[i]`."""
    path = run / f"{name}.json"
    found = json.loads(path.read_text())
    reference = found["conditions"]["reference"]
    reference["checkpoints"] = [
        {
            "at_s": at,
            "times_s": [0.02 * level] * 3,
            "others": {"tiny_ops": [0.002 * level] * 3, "two_threads": [0.004 * level] * 3},
        }
        for at, level in zip(moments, levels, strict=True)
    ]
    reference["timed_from_s"] = moments[0]
    path.write_text(json.dumps(found))


def _dense_pair(tmp_path: Path, step_overhead_gap: float) -> tuple[Path, Path]:
    """The idle and planted (2×) fixtures with made-up references: steady everywhere except a
    3× spell in the planted run's cpu_vs_gpu; step_overhead sampled every 2 s, or with
    one gap of `step_overhead_gap` s in the planted run."""
    base, other = tmp_path / "base", tmp_path / "other"
    shutil.copytree(IDLE, base)
    shutil.copytree(PLANTED, other)
    for run in (base, other):
        _set_reference(run, "memory_breakdown", [0.0, 0.3], [1.0, 1.0])
    _set_reference(base, "cpu_vs_gpu", [0.0, 2.0, 4.0], [1.0, 1.0, 1.0])
    _set_reference(other, "cpu_vs_gpu", [0.0, 2.0, 4.0], [1.0, 3.0, 1.0])
    _set_reference(base, "step_overhead", [0.0, 2.0, 4.0, 6.0, 8.0], [1.0] * 5)
    later = [0.0, 2.0, 2.0 + step_overhead_gap, 4.0 + step_overhead_gap]
    _set_reference(other, "step_overhead", later, [1.0] * 4)
    return base, other


def test_a_spell_in_one_experiment_does_not_blind_the_others(tmp_path: Path) -> None:
    """The planted 2× is found in every step variant, whose experiment ran steady in both
    runs, although the machine ran 3× slower for a moment of another experiment; that
    experiment's timings are held against the 3×."""
    result = diff(load_inputs(list(_dense_pair(tmp_path, 2.0))))
    rows = result.rows[1]
    assert result.drift[1].allowance == pytest.approx(3.0)  # the whole run's
    several = [r for r in rows if r.metric.several_cores]
    assert [r.name for r in several] == CROSSOVER
    for row in rows:
        if row.metric.several_cores:  # the crossover: the whole run's drift, always
            assert row.drift_window == RUN_WINDOW
            assert row.drift_allowance == pytest.approx(3.0)
        else:
            assert row.drift_window == EXPERIMENT_WINDOW
        if row.experiment == "step_overhead":
            assert row.drift_allowance == pytest.approx(1.0)
            assert row.comparison.threshold == pytest.approx(1.05)  # --min-ratio
            assert row.comparison.verdict == SLOWER
        else:
            assert row.experiment == "cpu_vs_gpu"
            assert row.drift_allowance == pytest.approx(3.0)
            assert row.comparison.verdict != SLOWER
    text = terminal(result)
    assert "Timings on one core held against the drift while their own experiment ran" in text
    assert f": {len(rows) - 3} of {len(rows)}." in text
    assert "The other timings (3: on several cores" in text
    metrics = document(result)["pairs"][0]["metrics"]
    assert document(result)["schema_version"] == 2
    assert [m["drift_window"] for m in metrics] == [r.drift_window for r in rows]
    assert [m["drift_allowance"] for m in metrics] == [r.drift_allowance for r in rows]


def test_an_experiment_sampled_too_sparsely_keeps_the_whole_runs_drift(tmp_path: Path) -> None:
    """One 6 s stretch without a checkpoint in the planted run's step_overhead: a spell
    there could have gone unseen, so its timings must clear the whole run's 3×."""
    result = diff(load_inputs(list(_dense_pair(tmp_path, MAX_GAP_S + 1.0))))
    rows = result.rows[1]
    for row in rows:
        if row.experiment == "step_overhead" or row.metric.several_cores:
            assert row.drift_window == RUN_WINDOW
            assert row.drift_allowance == pytest.approx(3.0)
            assert row.comparison.verdict != SLOWER  # the 2× does not clear 3×
        else:
            assert row.drift_window == EXPERIMENT_WINDOW
    own = sum(r.drift_window == EXPERIMENT_WINDOW for r in rows)
    text = terminal(result)
    assert f": {own} of {len(rows)}." in text
    assert f"The other timings ({len(rows) - own}: on several cores" in text
    assert "Differences below 3" in text


def test_files_that_checkpointed_every_10_s_keep_the_whole_runs_drift() -> None:
    """The shipped fixtures took checkpoints at each experiment's start and end only, 4 to
    10.5 s apart: the planted run's experiments with timings (7.5 s and 10.5 s) were not
    sampled densely, so every timing keeps the whole run's drift, as before."""
    result = diff(load_inputs([IDLE, PLANTED]))
    pair = result.drift[1]
    for row in result.rows[1]:
        assert row.drift_window == RUN_WINDOW
        assert row.drift_allowance == pytest.approx(pair.allowance_for(row.metric))
