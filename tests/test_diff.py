"""Comparing runs: the statistics are calibrated (A/A), a planted slowdown is found, and what
cannot be compared is refused with one line."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from report import cli
from report.diff import diff, load_inputs
from report.diff_render import markdown
from report.stats import compare, mann_whitney_p
from tests.conftest import FIXTURES

IDLE = next((FIXTURES / "fixture-machine-a").iterdir())
BUSY = next((FIXTURES / "fixture-machine-b-busy").iterdir())


def test_exact_rank_test_values() -> None:
    assert mann_whitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    assert mann_whitney_p([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]) > 0.5


def _draw(rng: random.Random, scale: float, n: int = 5) -> list[float]:
    return [scale * rng.lognormvariate(0, 0.03) for _ in range(n)]


def test_a_a_runs_are_judged_equal_at_least_95_percent_of_the_time() -> None:
    rng = random.Random(1)
    verdicts = [compare(_draw(rng, 1.0), _draw(rng, 1.0)).verdict for _ in range(400)]
    false_alarms = sum(v in ("slower", "faster") for v in verdicts)
    assert false_alarms / len(verdicts) <= 0.05


def test_a_planted_20_percent_slowdown_with_5_repeats_is_found() -> None:
    rng = random.Random(2)
    verdicts = [compare(_draw(rng, 1.0), _draw(rng, 1.2)).verdict for _ in range(200)]
    assert verdicts.count("slower") / len(verdicts) >= 0.95


def test_too_few_repeats_give_no_verdict() -> None:
    assert compare([1.0, 1.0], [2.0, 2.0]).verdict == "insufficient data"
    assert compare([1.0, 1.1, 0.9], [2.0, 2.1, 1.9]).verdict == "insufficient data"  # p >= 0.1


def test_fixtures_compare_machines_then_timings() -> None:
    result = diff(load_inputs([IDLE, BUSY]))
    assert result.machines["identity"] == []  # the same machine, busy or not
    verdicts = {row.name: row.comparison.verdict for row in result.rows[1]}
    # the busy machine's real slowdowns, 5 repeats each side, fully separated (p = 2/252)
    assert {name for name, v in verdicts.items() if v == "slower"} == {
        "Iris loop, cpu",
        "notes, cpu",
        "foreach, cpu",
    }
    assert verdicts["fused, cpu"] == verdicts["manual, cpu"] == "within noise"
    assert verdicts["step at N = 16, cpu"] == "insufficient data"  # 3 repeats
    assert any(
        note.startswith("fixture-machine-b-busy: cpu_vs_gpu ran while other processes")
        for note in result.busy
    )
    assert not any(note.startswith("fixture-machine-a") for note in result.busy)
    table = markdown(result)
    assert table.count("\n| cpu\\_vs\\_gpu | Iris loop, cpu |") == 1


def test_fail_on_regression_sets_the_exit_code(tmp_path: Path) -> None:
    args = ["diff", str(IDLE), str(BUSY), "--out", str(tmp_path), "--no-pdf"]
    assert cli.main(args) == 0
    assert cli.main([*args, "--fail-on-regression"]) == 1  # the busy run has real slowdowns
    reverse = ["diff", str(BUSY), str(IDLE), "--out", str(tmp_path / "reverse"), "--no-pdf"]
    assert cli.main([*reverse, "--fail-on-regression"]) == 0  # the idle run is only faster
    assert (tmp_path / "diff.md").read_text().startswith("# Comparison against fixture-machine-a")
    assert "<h1>Comparing runs</h1>" in (tmp_path / "diff.html").read_text()


def test_different_settings_are_refused_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    shutil.copytree(BUSY, other)
    path = other / "cpu_vs_gpu.json"
    document = json.loads(path.read_text())
    document["config"]["epochs"] = 5
    path.write_text(json.dumps(document))
    args = ["diff", str(IDLE), str(other), "--out", str(tmp_path / "out"), "--no-pdf"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: different experiment settings")
    assert "cpu_vs_gpu.epochs: 1000 vs 5" in err and "\n" not in err
    assert not (tmp_path / "out").exists()
    assert cli.main([*args, "--force"]) == 0


def test_a_single_experiment_file_and_a_missing_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = diff(load_inputs([IDLE / "step_overhead.json", BUSY]))
    assert result.only_in_some == [
        "cpu_vs_gpu (missing in fixture-machine-a)",
        "memory_breakdown (missing in fixture-machine-a)",
    ]
    assert {row.experiment for row in result.rows[1]} == {"step_overhead"}
    assert cli.main(["diff", str(IDLE), str(tmp_path / "nope"), "--no-pdf"]) == 2
    assert "no such run folder or file" in capsys.readouterr().err
