"""Rendering: numbers come from the files, bad files stop it cleanly, the PDF is real."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from experiments.contract import drift
from experiments.contract import format as rf
from report import cli
from report.render import page, plots
from report.render.load import load_run
from report.render.page import render_html
from report.render.sections import title
from report.words import formatting
from report.words.i18n import using
from tests.conftest import FIXTURES
from tests.html_text import heading_of, text_of
from tests.standin import STAND_IN

ROOT = Path(__file__).resolve().parent.parent


def _copy(run_dir: Path, tmp_path: Path, keep: tuple[str, ...] | None = None) -> Path:
    """A copy of a run folder; with `keep`, a run of only those experiments (renders faster)."""
    target = tmp_path / "run"
    shutil.copytree(run_dir, target)
    for output in target.glob("report*"):
        output.unlink()
    shutil.rmtree(target / "figures", ignore_errors=True)
    if keep is not None:
        manifest = rf.read_document(target / "run.json")
        for name in list(manifest["experiments"]):
            if name not in keep:
                del manifest["experiments"][name]
                (target / f"{name}.json").unlink()
        rf.write_document(target / "run.json", manifest)
    return target


def test_report_places_the_measured_numbers(smoke_run: Path, smoke_report: Path) -> None:
    html = (smoke_report / "report.html").read_text(encoding="utf-8")
    document = rf.read_document(smoke_run / "cpu_vs_gpu.json")
    cpu = document["data"]["iris"]["per_device"][0]
    environment = rf.read_document(smoke_run / "environment.json")
    cv = cpu["summary"]["cv"]
    assert formatting.duration(cpu["summary"]["median"], cv=cv) in html
    assert formatting.duration(cpu["summary"]["median"] / 200, cv=cv) in html  # per epoch
    assert formatting.number(cpu["final_loss"]) in html
    assert environment["cpu"]["model"] in text_of(html, "machine")
    run = load_run(smoke_run)
    view = page.context(run)
    # no GPU here (the stand-in is not one): the machine section gives the probe's reason
    assert view["machine"]["gpus"] == [] and view["machine"]["no_gpu_reason"]
    assert view["machine"]["no_gpu_reason"] in text_of(html, "machine")
    assert formatting.number(40_800) in text_of(html, "cpu_vs_gpu")  # FLOP per epoch, computed
    reproducibility = text_of(html, "reproducibility")
    assert all(digest in reproducibility for digest in run.sha256.values())
    assert "nan" not in html.lower().replace("nanoseconds", "")
    # the Method section's drift: every reference workload's typical time and spread, and
    # the checkpoints' spacing, as the files record them
    series = drift.run_series(run.experiments.values())
    assert set(series) == {"iris_mlp_steps", "tiny_ops", "two_threads"}
    method = view["method"]
    assert method["every_s"] == 2.5 and method["checkpoints"] == len(series["iris_mlp_steps"])
    assert method["tiny_s"] == statistics.median(series["tiny_ops"])
    assert method["two_threads_s"] == statistics.median(series["two_threads"])
    assert method["drift"] == drift.widest_within(drift.one_core(series))
    assert method["two_threads_drift"] == drift.within(series["two_threads"])
    shown = text_of(html, "method")
    for value in (
        formatting.duration(method["every_s"], 2),
        formatting.duration(method["tiny_s"]),
        formatting.duration(method["two_threads_s"]),
        formatting.percent(method["drift"] - 1),
        formatting.percent(method["two_threads_drift"] - 1),
        formatting.number(method["checkpoints"]),
    ):
        assert value in shown


def test_render_writes_every_output_and_a_pdf_per_experiment(
    smoke_run: Path, tmp_path: Path
) -> None:
    run_dir = _copy(smoke_run, tmp_path, keep=("logging_interval",))
    assert cli.main(["render", str(run_dir)]) == 0
    names = {p.name for p in run_dir.iterdir()}
    assert {"report.html", "report.md", "report.pdf", "figures"} <= names
    assert {"report-logging_interval.pdf"} <= names
    for name in ("report.pdf", "report-logging_interval.pdf"):
        pdf = (run_dir / name).read_bytes()
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert '<img src="data:image/svg+xml;base64,' in (run_dir / "report.html").read_text(
        encoding="utf-8"
    )
    assert not [p for p in run_dir.rglob(".*.tmp")]  # no temporary file left behind


def test_render_is_deterministic(smoke_report: Path) -> None:
    again = render_html(load_run(smoke_report))
    assert again == (smoke_report / "report.html").read_text(encoding="utf-8")


def _edit(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_text('{"schema_version": 2, ', encoding="utf-8"), "not valid JSON"),
        (
            lambda p: p.write_text(json.dumps({"name": "x"}), encoding="utf-8"),
            "field 'schema_version': missing",
        ),
        (
            lambda p: _edit(p, lambda d: d.__setitem__("schema_version", rf.SCHEMA_VERSION + 4)),
            f"version {rf.SCHEMA_VERSION + 4} is newer than this tool reads",
        ),
        (lambda p: p.unlink(), "file not found"),
        (
            lambda p: _edit(p, lambda d: d["data"]["iris"]["per_device"][0].pop("times_s")),
            "field 'data.iris.per_device[0].times_s': missing",
        ),
    ],
)
def test_a_bad_file_stops_render_with_one_line_and_touches_nothing(
    smoke_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], object],
    message: str,
) -> None:
    run_dir = _copy(smoke_run, tmp_path)
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


def test_the_stand_in_gpu_gets_gpu_columns_and_is_labelled(
    smoke_run: Path, smoke_report: Path
) -> None:
    html = (smoke_report / "report.html").read_text(encoding="utf-8")
    document = rf.read_document(smoke_run / "cpu_vs_gpu.json")
    cpu, sim = document["data"]["iris"]["per_device"]
    assert f"{STAND_IN} [sim:0] (simulated)" in html
    # the "vs CPU" column holds the ratio of this run's two medians
    vs_cpu = sim["summary"]["median"] / cpu["summary"]["median"]
    assert formatting.ratio(vs_cpu) in text_of(html, "cpu_vs_gpu")
    # a stand-in is never reported as a GPU that was found
    assert page.context(load_run(smoke_run))["machine"]["gpus"] == []


def test_an_incomplete_run_renders_what_it_has(smoke_run: Path, tmp_path: Path) -> None:
    run_dir = _copy(smoke_run, tmp_path, keep=("cpu_vs_gpu", "memory_breakdown"))
    manifest = rf.read_document(run_dir / "run.json")
    manifest["status"] = "incomplete"
    manifest["experiments"]["cpu_vs_gpu"] = {"status": "pending", "reason": None, "file": None}
    rf.write_document(run_dir / "run.json", manifest)
    run = load_run(run_dir)
    html = render_html(run)
    statuses = {section.name: section.status for section in page.context(run)["sections"]}
    assert statuses == {"cpu_vs_gpu": "not run", "memory_breakdown": "ok"}
    assert text_of(html, "cpu_vs_gpu")  # its section is there, saying so
    assert f"--resume {run_dir}" in html


def test_plots_are_byte_identical_for_the_same_input() -> None:
    series = [
        plots.Series(
            "cpu", [16, 32, 64], [1e-4, 2e-4, 8e-4], [9e-5, 1.9e-4, 7e-4], [1.1e-4, 2.1e-4, 9e-4]
        )
    ]
    first = plots.step_time_sweep(series, "N", "s")
    assert first == plots.step_time_sweep(series, "N", "s")
    assert b"<dc:date>" not in base64.b64decode(first.split(",", 1)[1])


def test_a_failed_experiment_still_gets_its_section(smoke_run: Path, tmp_path: Path) -> None:
    run_dir = _copy(smoke_run, tmp_path, keep=("step_overhead", "memory_breakdown"))
    path = run_dir / "step_overhead.json"
    document = rf.read_document(path)
    document.update(status="failed", reason="RuntimeError: out of luck", data=None)
    rf.write_document(path, document)
    run = load_run(run_dir)
    for language in ("en", "zh"):
        html = render_html(run, language)
        # the program's own message, as code, in its section and in the summary of findings
        assert html.count("<code>RuntimeError: out of luck</code>") == 2
        assert "RuntimeError: out of luck" in text_of(html, "step_overhead")
        assert "RuntimeError: out of luck" in text_of(html, "summary")
        with using(language):
            assert heading_of(html, "step_overhead") == title("step_overhead")
    (shown,) = [s for s in page.context(run)["sections"] if s.name == "step_overhead"]
    assert (shown.status, shown.error) == ("failed", "RuntimeError: out of luck")


@pytest.mark.slow
def test_files_without_a_recorded_spacing_say_every_10_s() -> None:
    """Result files from before `every_s` was recorded took a checkpoint about every 10 s."""
    run = load_run(next((FIXTURES / "fixture-machine-a").iterdir()))
    assert all("every_s" not in d["conditions"]["reference"] for d in run.experiments.values())
    assert page.context(run)["method"]["every_s"] == 10.0
    assert formatting.duration(10.0, 2) in text_of(render_html(run), "method")


def test_an_experiment_in_fewer_workers_is_named_with_its_count(
    smoke_run: Path, tmp_path: Path
) -> None:
    """Data parallelism sits out the default profile's last worker round
    (Declaration.replica_sits_out): the method section says in how many processes it was
    measured again, beside the others' count."""
    run_dir = _copy(smoke_run, tmp_path, keep=("cpu_vs_gpu", "data_parallel"))
    manifest = rf.read_document(run_dir / "run.json")
    manifest["profile"] = "default"  # the profile in which data parallelism sits out a round
    rf.write_document(run_dir / "run.json", manifest)
    for name, rounds in (("cpu_vs_gpu", 3), ("data_parallel", 2)):
        path = run_dir / f"{name}.json"
        document = rf.read_document(path)
        (entry,) = document["processes"]  # the smoke profile's one worker
        document["processes"] = [{**entry, "round": r} for r in range(1, rounds + 1)]
        rf.write_document(path, document)
    run = load_run(run_dir)
    method = page.context(run)["method"]
    assert method["workers"] == 3
    assert method["fewer_workers"] == [{"experiment": title("data_parallel"), "count": 2}]
    english = text_of(render_html(run, "en"), "method")
    assert "measured again in 3 fresh processes" in english
    assert f"Of these, “{title('data_parallel')}” was measured again in only 2," in english
    chinese = text_of(render_html(run, "zh"), "method")
    with using("zh"):
        assert f"其中“{title('data_parallel')}”只在 2 个进程中重新测量" in chinese
    # in a profile where nothing sits out, a missing round is not explained by it
    manifest["profile"] = "quick"
    rf.write_document(run_dir / "run.json", manifest)
    assert load_run(run_dir).manifest["profile"] == "quick"
    assert page.context(load_run(run_dir))["method"]["fewer_workers"] == []
    manifest["profile"] = "default"
    rf.write_document(run_dir / "run.json", manifest)
    # every experiment in every round: no such sentence
    path = run_dir / "data_parallel.json"
    document = rf.read_document(path)
    document["processes"].append({**document["processes"][0], "round": 3})
    rf.write_document(path, document)
    assert "measured again in only" not in text_of(render_html(load_run(run_dir), "en"), "method")
