"""Comparing runs: the shipped fixtures (one machine, idle then busy) are decided, the drift
of the machine is measured and used, copies and planted runs are flagged, diff.json carries
the outcome, and what cannot be compared is refused with one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from experiments.contract import drift
from report import cli
from report.diff import RunInput, diff, load_inputs, pair_drift
from report.diff_render import markdown, terminal
from report.stats import CANNOT_TELL, SLOWER, WITHIN_DRIFT, WITHIN_NOISE
from tests.conftest import FIXTURES, V1_FIXTURES

IDLE = next((FIXTURES / "fixture-machine-a").iterdir())
BUSY = next((FIXTURES / "fixture-machine-b-busy").iterdir())
PLANTED = next((FIXTURES / "fixture-machine-c-planted").iterdir())


def test_a_planted_2x_slowdown_is_slower_on_every_timing_despite_the_drift() -> None:
    result = diff(load_inputs([IDLE, PLANTED]))
    assert result.machines["identity"] == []  # the same machine
    rows = result.rows[1]
    assert len(rows) == 14 and result.tested == 14
    assert result.drift[1].measured and result.drift[1].same_machine
    assert result.drift[1].allowance > 1.3  # this VM's own speed flips by about 1.4×
    assert [r.name for r in rows if r.comparison.verdict != SLOWER] == []
    assert all(r.comparison.threshold == result.drift[1].allowance for r in rows)
    assert all(1.6 < (r.comparison.ratio or 0) < 3.5 for r in rows)
    assert result.planted == ["fixture-machine-c-planted"]
    text = terminal(result)
    assert "timings were tested together" in text and "Drift:" in text
    assert markdown(result).count("\n| cpu\\_vs\\_gpu | Iris loop, per epoch, cpu |") == 1


def test_a_busy_run_within_the_drift_is_not_called_slower() -> None:
    """The busy run of the same machine: no timing passes its drift clearly, so none is
    SLOWER; timings whose medians pass it with values too spread (the crossover's steps, over
    1×–29×) are "?", not "≈ drift"; the busy core is named."""
    result = diff(load_inputs([IDLE, BUSY]))
    rows = result.rows[1]
    allowance = result.drift[1].allowance
    assert {r.comparison.verdict for r in rows} <= {WITHIN_NOISE, WITHIN_DRIFT, CANNOT_TELL}
    for row in rows:
        ratio = row.comparison.ratio or 1.0
        if row.comparison.verdict == CANNOT_TELL:
            assert row.comparison.reason == "spread" and ratio > allowance
        if row.comparison.verdict == WITHIN_DRIFT:
            assert row.comparison.reason == "drift" and ratio <= allowance
    spread = [r.name for r in rows if r.comparison.reason == "spread"]
    crossover = ["step at N = 16, cpu", "step at N = 64, cpu", "step at N = 256, cpu"]
    assert spread == [*crossover, "numpy, cpu"]  # numpy: 1.60× against an allowance of 1.55×
    assert any(note.label == "fixture-machine-b-busy" for note in result.busy)
    assert not any(note.label == "fixture-machine-a" for note in result.busy)


def test_drift_is_the_widest_gap_between_moments_of_the_two_runs() -> None:
    first, second = load_inputs([IDLE, BUSY])
    mine, theirs = (
        drift.run_checkpoints(first.experiments.values()),
        drift.run_checkpoints(second.experiments.values()),
    )
    allowance = pair_drift(first, second, same_machine=True).allowance
    between = max(max(theirs) / min(mine), max(mine) / min(theirs))
    spreads = max(mine) / min(mine), max(theirs) / min(theirs)
    assert allowance == pytest.approx(max(between, *spreads))
    assert len(mine) == len(theirs) == 6  # start and end of each of the 3 experiments
    # between machines the gap is hardware too: only each run's own spread counts
    other_machine = pair_drift(first, second, same_machine=False)
    assert other_machine.between is None
    assert other_machine.allowance == pytest.approx(
        max(max(mine) / min(mine), max(theirs) / min(theirs))
    )


def _add_tiny_ops(run: Path, factor_at: dict[int, float]) -> None:
    """Give every checkpoint of a run a `tiny_ops` workload of 2 ms, times `factor_at[i]`
    at the i-th checkpoint of the run (counted across its experiments in report order)."""
    index = 0
    for name in ("cpu_vs_gpu", "memory_breakdown", "step_overhead"):
        path = run / f"{name}.json"
        document = json.loads(path.read_text())
        reference = document["conditions"]["reference"]
        reference["others"] = {"tiny_ops": {"count": 1000, "threads": 1}}
        for checkpoint in reference["checkpoints"]:
            factor = factor_at.get(index, 1.0)
            checkpoint["others"] = {"tiny_ops": [0.002 * factor] * 5}
            index += 1
        path.write_text(json.dumps(document))


def test_the_drift_is_the_widest_over_the_reference_workloads(tmp_path: Path) -> None:
    """The MLP steps barely moved but the microsecond workload was 1.9× slower at one
    checkpoint: the allowance is 1.9×, within a run and between runs."""
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(IDLE, first)
    shutil.copytree(IDLE, second)
    _add_tiny_ops(first, {})
    _add_tiny_ops(second, {3: 1.9})
    runs = load_inputs([first, second])
    iris = [drift.run_checkpoints([d]) for d in runs[0].experiments.values()]
    iris_within = max(v for values in iris for v in values) / min(
        v for values in iris for v in values
    )
    assert iris_within < 1.9
    same = pair_drift(runs[0], runs[1], same_machine=True)
    assert same.within_baseline == pytest.approx(iris_within)  # tiny_ops flat: 1.0
    assert same.within_other == pytest.approx(1.9)
    assert same.between == pytest.approx(1.9)
    assert same.allowance == pytest.approx(1.9)
    # a version 3 run (no tiny_ops) against a version 4 one: the common workload only
    older = pair_drift(load_inputs([IDLE])[0], runs[1], same_machine=True)
    assert older.between == pytest.approx(
        drift.between(
            drift.run_checkpoints(load_inputs([IDLE])[0].experiments.values()),
            drift.run_checkpoints(runs[1].experiments.values()),
        )
    )
    assert older.within_other == pytest.approx(1.9)


def test_a_shift_within_the_drift_is_not_called(tmp_path: Path) -> None:
    """Both runs' reference checkpoints say the machine itself was 40 % slower in one: a
    difference of that size is the machine's, not a finding."""
    slow = tmp_path / "slow"
    shutil.copytree(BUSY, slow)
    for path in slow.glob("*.json"):
        document = json.loads(path.read_text())
        reference = document.get("conditions", {}).get("reference")
        if reference:
            for checkpoint in reference["checkpoints"]:
                checkpoint["times_s"] = [t * 1.4 for t in checkpoint["times_s"]]
            path.write_text(json.dumps(document))
    result = diff(load_inputs([IDLE, slow]))
    assert result.drift[1].allowance > 1.4
    for row in result.rows[1]:
        if row.comparison.verdict == SLOWER:
            assert row.comparison.ratio is not None and row.comparison.ratio > 1.4


def test_fail_on_regression_sets_the_exit_code(tmp_path: Path) -> None:
    args = ["diff", str(IDLE), str(PLANTED), "--out", str(tmp_path), "--no-pdf"]
    assert cli.main(args) == 0
    assert cli.main([*args, "--fail-on-regression"]) == 1  # the planted 2× is SLOWER
    busy = ["diff", str(IDLE), str(BUSY), "--out", str(tmp_path / "busy"), "--no-pdf"]
    assert cli.main([*busy, "--fail-on-regression"]) == 0  # within the drift: not a regression
    assert (tmp_path / "diff.md").read_text().startswith("# Comparison against fixture-machine-a")
    assert "<h1>Comparing runs</h1>" in (tmp_path / "diff.html").read_text()


def test_diff_json_holds_every_verdict_and_the_family(tmp_path: Path) -> None:
    assert cli.main(["diff", str(IDLE), str(BUSY), "--out", str(tmp_path), "--no-pdf"]) == 0
    document = json.loads((tmp_path / "diff.json").read_text())
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
    for m in tested:
        assert m["adjusted_p"] >= m["p"]
        assert m["threshold"] == pytest.approx(max(1.05, pair["drift"]["allowance"]))
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
    document = json.loads(path.read_text())
    document["conditions"]["planted_slowdown"] = 1.25
    path.write_text(json.dumps(document))
    result = diff(load_inputs([IDLE, planted]))
    assert result.planted == ["fixture-machine-b-busy"]
    assert "planted slowdown" in terminal(result)


def test_different_settings_are_refused_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    shutil.copytree(BUSY, other)
    path = other / "cpu_vs_gpu.json"
    document = json.loads(path.read_text())
    epochs = document["config"]["epochs"]
    document["config"]["epochs"] = 5
    path.write_text(json.dumps(document))
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
        == len(json.loads((BUSY / "run.json").read_text())["experiments"]) - 1
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
