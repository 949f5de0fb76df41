"""Comparing runs: the shipped fixtures (one machine, idle then busy) are decided, the drift
of the machine is measured and used, copies and planted runs are flagged, diff.json carries
the outcome, and what cannot be compared is refused with one line."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import pytest

from report import cli
from report.diff.compare import RunInput, diff, load_inputs, pair_drift
from report.diff.stats import CANNOT_TELL, SLOWER, WITHIN_DRIFT, WITHIN_NOISE
from report.diff.views import markdown, terminal
from report.words.formatting import ratio
from tests.conftest import FIXTURES, V1_FIXTURES, V3_FIXTURES

IDLE = next((FIXTURES / "fixture-machine-a").iterdir())
BUSY = next((FIXTURES / "fixture-machine-b-busy").iterdir())
PLANTED = next((FIXTURES / "fixture-machine-c-planted").iterdir())
IDLE_V3 = next((V3_FIXTURES / "fixture-machine-a").iterdir())
CROSSOVER = ["step at N = 16, cpu", "step at N = 64, cpu", "step at N = 256, cpu"]


def test_a_planted_2x_slowdown_is_never_missed_as_noise() -> None:
    """The planted run's machine drifted 1.9× on one core and 5.4× on two during it: the 2×
    is SLOWER wherever it clears that drift, "≈ drift" or "?" where it does not, and
    never "≈" or faster."""
    result = diff(load_inputs([IDLE, PLANTED]))
    assert result.machines["identity"] == []  # the same machine
    rows = result.rows[1]
    assert len(rows) == 14 and result.tested == 14
    pair = result.drift[1]
    assert pair.measured and pair.same_machine
    assert 1.8 < pair.allowance < 2.0 and pair.allowance_several_cores > 5
    assert {r.comparison.verdict for r in rows} <= {SLOWER, WITHIN_DRIFT, CANNOT_TELL}
    assert [r.name for r in rows if r.comparison.verdict == SLOWER] == [
        "Iris loop, per epoch, cpu",
        "forward_call, cpu",
        "foreach, cpu",
        "fused, cpu",
        "compiled, cpu",
        "compiled_step, cpu",
        "numpy, cpu",
    ]
    for row in rows:
        several = row.name in CROSSOVER  # the crossover ran on both cores
        assert row.metric.several_cores == several
        expected = pair.allowance_several_cores if several else pair.allowance
        assert row.comparison.threshold == pytest.approx(expected)
        assert 1.8 < (row.comparison.ratio or 0) < 3.2
        if row.comparison.verdict == SLOWER:
            assert (row.comparison.ratio or 0) > expected
    assert result.planted == ["fixture-machine-c-planted"]
    # the terminal names the family's size and both thresholds the drift sets
    text = terminal(result)
    assert f"{result.tested} " in text and f"{result.alpha:g}" in text
    assert ratio(pair.allowance) in text and ratio(pair.allowance_several_cores) in text
    assert markdown(result).count("\n| cpu\\_vs\\_gpu | Iris loop, per epoch, cpu |") == 1


def test_a_busy_run_within_the_drift_is_not_called_slower() -> None:
    """The busy run of the same machine: another process spun on the second core, so the
    two-thread reference drifted far more than the one-thread ones and the crossover (on
    both cores) is held against it; no timing passes its drift clearly, so none is SLOWER,
    13 of 14 are decided, and the crossover at N = 256, 23× slower in the median with
    values over 1×–60×, is "?" with its reason; the busy core is named."""
    result = diff(load_inputs([IDLE, BUSY]))
    rows = result.rows[1]
    pair = result.drift[1]
    assert pair.allowance_several_cores > 3 * pair.allowance
    assert {r.comparison.verdict for r in rows} <= {WITHIN_NOISE, WITHIN_DRIFT, CANNOT_TELL}
    for row in rows:
        ratio = row.comparison.ratio or 1.0
        threshold = pair.allowance_for(row.metric)
        assert row.metric.several_cores == (row.name in CROSSOVER)
        if row.comparison.verdict == CANNOT_TELL:
            assert row.comparison.reason == "spread" and ratio > threshold
        if row.comparison.verdict == WITHIN_DRIFT:
            assert row.comparison.reason == "drift" and ratio <= threshold
    spread = [r.name for r in rows if r.comparison.reason == "spread"]
    assert spread == ["step at N = 256, cpu"]
    assert sum(r.comparison.verdict != CANNOT_TELL for r in rows) == 13  # the issue: ≥ 90 %
    assert any(note.label == "fixture-machine-b-busy" for note in result.busy)
    assert not any(note.label == "fixture-machine-a" for note in result.busy)


def _checkpoint_medians(run: Path, workload: str) -> list[float]:
    """One workload's checkpoint medians, read from the files without the code under test."""
    values = []
    for name in ("cpu_vs_gpu", "memory_breakdown", "step_overhead"):  # the report's order
        reference = json.loads((run / f"{name}.json").read_text(encoding="utf-8"))["conditions"][
            "reference"
        ]
        for checkpoint in reference["checkpoints"]:
            readings = (
                checkpoint["times_s"]
                if workload == "iris_mlp_steps"
                else checkpoint["others"][workload]
            )
            values.append(statistics.median(readings))
    return values


def test_drift_is_the_widest_gap_between_moments_of_the_two_runs() -> None:
    first, second = load_inputs([IDLE, BUSY])
    gaps: dict[str, float] = {}
    spreads: dict[str, tuple[float, float]] = {}
    for workload in ("iris_mlp_steps", "tiny_ops", "two_threads"):
        mine, theirs = _checkpoint_medians(IDLE, workload), _checkpoint_medians(BUSY, workload)
        assert len(mine) == len(theirs) == 6  # start and end of each of the 3 experiments
        gaps[workload] = max(max(theirs) / min(mine), max(mine) / min(theirs))
        spreads[workload] = max(mine) / min(mine), max(theirs) / min(theirs)
    one = ("iris_mlp_steps", "tiny_ops")
    same = pair_drift(first, second, same_machine=True)
    assert same.allowance == pytest.approx(
        max(max(gaps[w] for w in one), *(s for w in one for s in spreads[w]))
    )
    assert same.allowance_several_cores == pytest.approx(
        max(max(gaps.values()), *(s for pair in spreads.values() for s in pair))
    )
    # between machines the gap is hardware too: only each run's own spread counts
    other_machine = pair_drift(first, second, same_machine=False)
    assert other_machine.between is None
    assert other_machine.allowance == pytest.approx(max(s for w in one for s in spreads[w]))


def _add_workloads(run: Path, slower_at: dict[str, dict[int, float]]) -> None:
    """Give every checkpoint of a version 3 run the two later reference workloads, flat (2 ms
    and 4 ms) but `slower_at[workload][i]` times slower at the i-th checkpoint of the run
    (counted across its experiments in the report's order)."""
    index = 0
    for name in ("cpu_vs_gpu", "memory_breakdown", "step_overhead"):
        path = run / f"{name}.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        reference = document["conditions"]["reference"]
        reference["others"] = {
            "tiny_ops": {"count": 1000, "threads": 1},
            "two_threads": {"count": 20, "threads": 2},
        }
        for checkpoint in reference["checkpoints"]:
            checkpoint["others"] = {
                workload: [base * slower_at.get(workload, {}).get(index, 1.0)] * 5
                for workload, base in (("tiny_ops", 0.002), ("two_threads", 0.004))
            }
            index += 1
        path.write_text(json.dumps(document), encoding="utf-8")


def test_each_timing_is_held_against_the_reference_workloads_of_its_cores(
    tmp_path: Path,
) -> None:
    """The MLP steps barely moved, the microsecond workload was 1.9× slower at one
    checkpoint and the two-thread one 5× at another: one-core timings must pass 1.9×, the
    crossover (both cores) 5×."""
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(IDLE_V3, first)
    shutil.copytree(IDLE_V3, second)
    _add_workloads(first, {})
    _add_workloads(second, {"tiny_ops": {3: 1.9}, "two_threads": {1: 5.0}})
    iris = _checkpoint_medians(IDLE_V3, "iris_mlp_steps")
    iris_within = max(iris) / min(iris)
    assert iris_within < 1.9
    runs = load_inputs([first, second])
    same = pair_drift(runs[0], runs[1], same_machine=True)
    assert same.within_baseline == pytest.approx(iris_within)  # the added ones are flat
    assert same.within_other == pytest.approx(1.9)
    assert same.between == pytest.approx(1.9)
    assert same.allowance == pytest.approx(1.9)
    assert same.several_cores == pytest.approx((iris_within, 5.0, 5.0))
    assert same.allowance_several_cores == pytest.approx(5.0)
    for row in diff(runs).rows[1]:
        expected = 5.0 if row.name in CROSSOVER else 1.9
        assert row.comparison.threshold == pytest.approx(expected)
    # a version 3 run (the MLP steps only) against a version 4 one: the common workload
    older = pair_drift(load_inputs([IDLE_V3])[0], runs[1], same_machine=True)
    assert older.between == pytest.approx(iris_within)  # the same MLP readings
    assert older.within_baseline == pytest.approx(iris_within)
    assert older.within_other == pytest.approx(1.9)


def test_a_shift_within_the_drift_is_not_called(tmp_path: Path) -> None:
    """Both runs' reference checkpoints say the machine itself was 40 % slower in one: a
    difference of that size is the machine's, not a finding."""
    slow = tmp_path / "slow"
    shutil.copytree(BUSY, slow)
    for path in slow.glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        reference = document.get("conditions", {}).get("reference")
        if reference:
            for checkpoint in reference["checkpoints"]:
                checkpoint["times_s"] = [t * 1.4 for t in checkpoint["times_s"]]
            path.write_text(json.dumps(document), encoding="utf-8")
    result = diff(load_inputs([IDLE, slow]))
    assert result.drift[1].allowance > 1.4
    for row in result.rows[1]:
        if row.comparison.verdict == SLOWER:
            assert row.comparison.ratio is not None and row.comparison.ratio > 1.4


@pytest.mark.slow
def test_fail_on_regression_sets_the_exit_code(tmp_path: Path) -> None:
    args = ["diff", str(IDLE), str(PLANTED), "--out", str(tmp_path), "--no-pdf"]
    assert cli.main(args) == 0
    assert cli.main([*args, "--fail-on-regression"]) == 1  # the planted 2× is SLOWER
    busy = ["diff", str(IDLE), str(BUSY), "--out", str(tmp_path / "busy"), "--no-pdf"]
    assert cli.main([*busy, "--fail-on-regression"]) == 0  # within the drift: not a regression
    assert (
        (tmp_path / "diff.md")
        .read_text(encoding="utf-8")
        .startswith("# Comparison against fixture-machine-a")
    )
    assert "<h1>Comparing runs</h1>" in (tmp_path / "diff.html").read_text(encoding="utf-8")


def test_diff_json_holds_every_verdict_and_the_family(tmp_path: Path) -> None:
    assert cli.main(["diff", str(IDLE), str(BUSY), "--out", str(tmp_path), "--no-pdf"]) == 0
    document = json.loads((tmp_path / "diff.json").read_text(encoding="utf-8"))
    assert document["kind"] == "diff" and document["schema_version"] == 1
    (pair,) = document["pairs"]
    metrics = pair["metrics"]
    tested = [m for m in metrics if m["adjusted_p"] is not None]
    assert document["family"] == {
        "method": "holm",
        "alpha": 0.01,
        "tested": len(tested),
        "min_ratio": 1.05,
    }
    assert document["regressions"] == sum(m["verdict"] == "slower" for m in metrics)
    assert [m["several_cores"] for m in metrics] == [
        m["key"].startswith("crossover/") for m in metrics
    ]
    assert pair["drift"]["allowance_several_cores"] > pair["drift"]["allowance"]
    for m in tested:
        assert m["adjusted_p"] >= m["p"]
        allowance = pair["drift"]["allowance_several_cores" if m["several_cores"] else "allowance"]
        assert m["threshold"] == pytest.approx(max(1.05, allowance))
        assert m["ratio"] == pytest.approx(m["median_other_s"] / m["median_baseline_s"])
    result = diff(load_inputs([IDLE, BUSY]))
    assert [m["verdict"] for m in metrics] == [r.comparison.verdict for r in result.rows[1]]


def test_a_run_compared_with_a_copy_of_itself_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(IDLE, copy)
    result = diff(load_inputs([IDLE, copy]))
    assert result.copies == [1]
    assert {r.comparison.verdict for r in result.rows[1]} <= {"within noise", CANNOT_TELL}
    assert cli.main(["diff", str(IDLE), str(copy), "--out", str(tmp_path / "d"), "--no-pdf"]) == 0
    assert "a run compared with itself (or a copy) says nothing" in capsys.readouterr().out


def test_a_planted_slowdown_run_is_flagged(tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    shutil.copytree(BUSY, planted)
    path = planted / "cpu_vs_gpu.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["conditions"]["planted_slowdown"] = 1.25
    path.write_text(json.dumps(document), encoding="utf-8")
    result = diff(load_inputs([IDLE, planted]))
    assert result.planted == ["fixture-machine-b-busy"]
    assert "planted slowdown" in terminal(result)


def test_different_settings_are_refused_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    shutil.copytree(BUSY, other)
    path = other / "cpu_vs_gpu.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    epochs = document["config"]["epochs"]
    document["config"]["epochs"] = 5
    path.write_text(json.dumps(document), encoding="utf-8")
    args = ["diff", str(IDLE), str(other), "--out", str(tmp_path / "out"), "--no-pdf"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: different experiment settings")
    assert f"cpu_vs_gpu.epochs: {epochs} vs 5" in err and "\n" not in err
    assert not (tmp_path / "out").exists()
    assert cli.main([*args, "--force"]) == 0


def test_a_single_experiment_file_and_a_missing_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = diff(load_inputs([IDLE / "step_overhead.json", BUSY]))
    assert (
        len(result.only_in_some)
        == len(json.loads((BUSY / "run.json").read_text(encoding="utf-8"))["experiments"]) - 1
    )
    assert {row.experiment for row in result.rows[1]} == {"step_overhead"}
    assert cli.main(["diff", str(IDLE), str(tmp_path / "nope"), "--no-pdf"]) == 2
    assert "no such run folder or file" in capsys.readouterr().err


def test_the_diff_speaks_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "zh"
    assert (
        cli.main(["diff", str(IDLE), str(BUSY), "--out", str(out), "--no-pdf", "--lang", "zh"]) == 0
    )
    printed = capsys.readouterr().out
    assert "基线" in printed and "Drift:" not in printed
    assert (out / "diff.zh.md").exists() and (out / "diff.json").exists()


def test_runs_without_reference_checkpoints_say_drift_was_not_measured() -> None:
    old = V1_FIXTURES / "old-quick"
    run = next(old.iterdir())
    first = load_inputs([run])[0]
    bare = RunInput(first.label, first.run_id, first.path, first.environment, first.experiments)
    result_drift = pair_drift(bare, bare, same_machine=True)
    assert not result_drift.measured and result_drift.allowance == 1.0
