"""Rendering: numbers come from the files, bad files stop it cleanly, the PDF is real."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from experiments import resultformat, runner
from experiments.devices import CpuDevice, SimulatedDevice
from experiments.harness import Progress
from report import cli, formatting, plots
from report.load import load_run
from report.render import render_html
from tests.conftest import FAST_OVERRIDES

ROOT = Path(__file__).resolve().parent.parent


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run_dir, target)
    for name in ("report.html", "report.pdf"):
        (target / name).unlink(missing_ok=True)
    return target


def test_report_places_the_measured_numbers(quick_run: Path) -> None:
    html = render_html(load_run(quick_run))
    document = resultformat.read_document(quick_run / "cpu_vs_gpu.json")
    cpu = document["data"]["iris"]["per_device"][0]
    environment = resultformat.read_document(quick_run / "environment.json")
    assert formatting.duration(cpu["summary"]["median"]) in html
    assert formatting.duration(cpu["summary"]["median"] / 200) in html  # per epoch
    assert formatting.number(cpu["final_loss"]) in html
    assert environment["cpu"]["model"] in html
    assert "No GPU was found on this machine" in html
    assert "not run on this machine" in html
    assert formatting.number(40_800) in html  # FLOP per epoch, computed
    for digest in load_run(quick_run).sha256.values():
        assert digest in html
    assert "nan" not in html.lower().replace("nanoseconds", "")


def test_render_writes_html_and_a_pdf(quick_run: Path, tmp_path: Path) -> None:
    run_dir = _copy(quick_run, tmp_path)
    assert cli.main(["render", str(run_dir)]) == 0
    pdf = (run_dir / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert '<img src="data:image/svg+xml;base64,' in (run_dir / "report.html").read_text()


def test_render_is_deterministic(quick_run: Path) -> None:
    run = load_run(quick_run)
    assert render_html(run) == render_html(run)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text('{"schema_version": 1, '), "not valid JSON"),
        (lambda p: p.write_text(json.dumps({"name": "x"})), "field 'schema_version': missing"),
        (
            lambda p: p.write_text(
                p.read_text().replace('"schema_version": 1', '"schema_version": 7')
            ),
            "version 7 is newer than this tool reads",
        ),
        (lambda p: p.unlink(), "file not found"),
        (
            lambda p: p.write_text(p.read_text().replace('"times_s"', '"time_s"', 1)),
            "field 'data.iris.per_device[0].times_s': missing",
        ),
    ],
)
def test_a_bad_file_stops_render_with_one_line_and_touches_nothing(
    quick_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], object],
    message: str,
) -> None:
    run_dir = _copy(quick_run, tmp_path)
    damage(run_dir / "cpu_vs_gpu.json")
    before = _digests(run_dir)
    assert cli.main(["render", str(run_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {run_dir / 'cpu_vs_gpu.json'}: ")
    assert message in err and "\n" not in err
    assert _digests(run_dir) == before  # no report written, nothing changed


def test_render_of_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", str(tmp_path / "nope")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert cli.main(["render", "--results", str(tmp_path)]) == 2
    assert "no run recorded yet" in capsys.readouterr().err


def test_a_simulated_gpu_gets_gpu_columns_and_is_labelled(tmp_path: Path) -> None:
    run_dir, manifest, environment, configs = runner.start_run(
        tmp_path, profile="quick", overrides=FAST_OVERRIDES
    )
    runner.execute(
        run_dir,
        manifest,
        environment,
        configs,
        [CpuDevice("Test CPU"), SimulatedDevice("Stand-in GPU")],
        Progress(stream=io.StringIO()),
    )
    html = render_html(load_run(run_dir))
    assert "Stand-in GPU [sim:0] (simulated)" in html
    assert "the time" in html  # the "vs CPU" column exists with an accelerator


def test_an_incomplete_run_renders_what_it_has(quick_run: Path, tmp_path: Path) -> None:
    run_dir = _copy(quick_run, tmp_path)
    manifest = resultformat.read_document(run_dir / "run.json")
    manifest["status"] = "incomplete"
    manifest["experiments"]["cpu_vs_gpu"] = {"status": "pending", "reason": None, "file": None}
    resultformat.write_document(run_dir / "run.json", manifest)
    html = render_html(load_run(run_dir))
    assert "the run was interrupted before this experiment finished" in html
    assert f"--resume {run_dir}" in html


def test_plots_are_byte_identical_for_the_same_input() -> None:
    series = [
        plots.Series(
            "cpu", [16, 32, 64], [1e-4, 2e-4, 8e-4], [9e-5, 1.9e-4, 7e-4], [1.1e-4, 2.1e-4, 9e-4]
        )
    ]
    first = plots.step_time_sweep(series, "N", "s")
    assert first == plots.step_time_sweep(series, "N", "s")
    assert b"<dc:date>" not in plots.svg_bytes(first)


def test_reading_results_needs_no_torch() -> None:
    code = (
        "import sys, report.cli, report.render, report.load; "
        "assert 'torch' not in sys.modules, 'report imported torch'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_failed_experiment_still_gets_its_section(quick_run: Path, tmp_path: Path) -> None:
    run_dir = _copy(quick_run, tmp_path)
    path = run_dir / "step_overhead.json"
    document = resultformat.read_document(path)
    document.update(status="failed", reason="RuntimeError: out of luck", data=None)
    resultformat.write_document(path, document)
    html = render_html(load_run(run_dir))
    assert "<strong>failed:</strong> RuntimeError: out of luck" in html
    assert "Step overhead: where a tiny training step" in html
