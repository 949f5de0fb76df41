"""Nothing lost, nothing half-written: every bad input and fault in one table.

Each case ends with one line on stderr, the documented exit status, no
traceback, and no new or changed file where nothing was to be written. The
tables below are the suite's list of such cases; their length is the count.
"""

from __future__ import annotations

import errno
import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from experiments.contract import atomic
from experiments.contract import format as rf
from experiments.contract.format import SCHEMA_VERSION
from experiments.core import cli as run_cli
from experiments.core import lock, measuring, runner
from report import cli as report_cli
from report.outputs.escaping import markdown_text
from tests.conftest import FIXTURES, ROOT
from tests.datasets import small_mnist

IDLE = next((FIXTURES / "fixture-machine-a").iterdir())
BUSY = next((FIXTURES / "fixture-machine-b-busy").iterdir())


def _one_line_error(err: str, fragment: str) -> None:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), err
    assert fragment in lines[-1], (fragment, err)
    assert "Traceback" not in err


def _digests(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------
# 1. Settings and arguments that must stop the runner before a run folder exists.


RUNNER_CASES: list[tuple[str, list[str], str]] = [
    ("not a number", ["--set", "cpu_vs_gpu.epochs=abc"], "cannot read 'abc' as int"),
    ("unknown setting", ["--set", "cpu_vs_gpu.epoch=5"], "has no setting 'epoch'"),
    ("no experiment in --set", ["--set", "epochs=5"], "expected EXPERIMENT.SETTING=VALUE"),
    ("curve_every must divide", ["--set", "cpu_vs_gpu.curve_every=7"], "must divide epochs"),
    ("unknown experiment", ["--only", "nope"], "unknown experiment(s) nope"),
    ("empty --only", ["--only", ","], "an empty experiment name"),
    ("lr NaN", ["--set", "cpu_vs_gpu.lr=nan"], "lr must be a finite number"),
    ("lr infinite", ["--set", "cpu_vs_gpu.lr=inf"], "lr must be a finite number"),
    ("lr negative", ["--set", "cpu_vs_gpu.lr=-0.1"], "lr must be in (0, 10]"),
    ("test_size above 1", ["--set", "cpu_vs_gpu.test_size=1.5"], "test_size must be in"),
    ("test_size zero", ["--set", "cpu_vs_gpu.test_size=0"], "test_size must be in"),
    ("repeats zero", ["--set", "cpu_vs_gpu.repeats=0"], "repeats must be in [1, 1000]"),
    ("negative seed", ["--seed", "-1"], "seed must be in [0, 4294967295]"),
    ("crossover size zero", ["--set", "cpu_vs_gpu.crossover_sizes=16,0"], "crossover_sizes"),
    ("empty tuple", ["--set", "cpu_vs_gpu.crossover_sizes=,"], "needs at least one value"),
    ("interval above epochs", ["--set", "logging_interval.intervals=1,99999"], "longer than"),
    ("unknown variant", ["--set", "step_overhead.variants=notes,turbo"], "'turbo' is not one"),
    ("variants without notes", ["--set", "step_overhead.variants=manual"], "must include"),
    ("unknown backend", ["--set", "step_overhead.compile_backend=tvm"], "'tvm' is not one"),
    ("unknown optimizer", ["--set", "memory_breakdown.optimizers=sgd,lion"], "'lion'"),
    ("max_batch below start", ["--set", "batch_size_scaling.max_batch=8"], "max_batch"),
    ("share above 1", ["--set", "batch_size_scaling.budget_share=1.5"], "budget_share"),
    ("batch above the data", ["--set", "batch_size_scaling.quality_batches=4,5000"], "1437"),
    ("steps per workload", ["--set", "mixed_precision.steps=5"], "one count per workload"),
    ("init_scale zero", ["--set", "mixed_precision.init_scale=0"], "init_scale"),
    ("missing data_dir", ["--set", "batch_size_scaling.data_dir=/no/such/folder"], "data_dir"),
    ("unknown profile", ["--profile", "fastest"], "invalid choice"),
]


@pytest.mark.parametrize(
    ("case", "argv", "message"), RUNNER_CASES, ids=[c[0] for c in RUNNER_CASES]
)
def test_bad_runner_input_stops_with_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, argv: list[str], message: str
) -> None:
    results = tmp_path / "results"
    try:
        code = run_cli.main(["--quiet", "--results", str(results), *argv])
    except SystemExit as exit_:  # argparse refuses its own way, with status 2
        code = int(exit_.code or 0)
        assert message in capsys.readouterr().err
    else:
        _one_line_error(capsys.readouterr().err, message)
    assert code == 2
    assert not results.exists()


def test_a_data_dir_smaller_than_one_epoch_is_refused_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = small_mnist(tmp_path / "data")
    results = tmp_path / "results"
    argv = ["--quiet", "--results", str(results), "--only", "batch_size_scaling"]
    assert run_cli.main([*argv, "--set", f"batch_size_scaling.data_dir={data}"]) == 2
    _one_line_error(capsys.readouterr().err, "holds 100 training samples, fewer than one epoch")
    assert not results.exists()


@pytest.mark.slow
def test_results_naming_a_file_and_a_hostile_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "results"
    afile.write_text("not a folder", encoding="utf-8")
    assert run_cli.main(["--quiet", "--results", str(afile), "--only", "cpu_vs_gpu"]) == 2
    _one_line_error(capsys.readouterr().err, "is a file, not a folder for results")
    assert runner.slug("../../etc/passwd") == "etc-passwd"  # a label never leaves results/


# --------------------------------------------------------------------------
# 2. Resuming: what run.json says is checked like new input.


def _partial_run(tmp_path: Path, **manifest_changes: Any) -> Path:
    """A run started on this machine and interrupted before its experiment ran."""
    run_dir, *_ = runner.start_run(tmp_path, profile="smoke", only=["memory_breakdown"])
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    manifest.update({"status": "incomplete", **manifest_changes})
    (run_dir / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run_dir


RESUME_CASES: list[tuple[str, dict[str, Any], list[str], str]] = [
    ("unknown profile", {"profile": "turbo"}, [], "profile 'turbo' is not known"),
    (
        "unknown experiment",
        {"experiments": {"warp_drive": {"status": "pending", "reason": None, "file": None}}},
        [],
        "warp_drive",
    ),
    (
        "settings no longer allowed",
        {"overrides": {"memory_breakdown.lr": "nan"}},
        [],
        "lr must be a finite",
    ),
    ("own settings only", {}, ["--profile", "quick"], "drop --profile"),
    ("complete already", {"status": "complete"}, [], "this run is complete"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "changes", "extra", "message"), RESUME_CASES, ids=[c[0] for c in RESUME_CASES]
)
def test_a_resume_that_cannot_run_stops_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    changes: dict[str, Any],
    extra: list[str],
    message: str,
) -> None:
    run_dir = _partial_run(tmp_path, **changes)
    before = _digests(run_dir)
    assert run_cli.main(["--quiet", "--resume", str(run_dir), *extra]) == 2
    _one_line_error(capsys.readouterr().err, message)
    assert _digests(run_dir) == before


def test_a_resume_of_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli.main(["--quiet", "--resume", str(tmp_path / "nope")]) == 2
    _one_line_error(capsys.readouterr().err, "not a run folder")


# --------------------------------------------------------------------------
# 3. Faults while a run runs.


@pytest.mark.slow
def test_a_second_process_on_the_same_run_folder_refuses_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = _partial_run(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from experiments.core import lock\n"
            f"with lock.owning(Path({str(run_dir)!r})):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        encoding="utf-8",
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        began = time.perf_counter()
        assert run_cli.main(["--quiet", "--resume", str(run_dir)]) == 2
        assert time.perf_counter() - began < 5  # at once, not after waiting
        _one_line_error(capsys.readouterr().err, "is being written by process")
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    # the holder is gone, killed: its lock went with it, so the folder is free again
    with lock.owning(run_dir):
        pass


@pytest.mark.slow
def test_a_full_disk_marks_the_run_incomplete_and_resume_finishes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    argv = ["--quiet", "--results", str(results), "--profile", "smoke", "--workers", "0"]
    argv += ["--only", "memory_breakdown,logging_interval", "--label", "m"]
    real_write = atomic.write_atomic

    def full_disk(path: Path, text: str | bytes) -> None:
        if path.name == "logging_interval.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, text)

    monkeypatch.setattr(rf, "write_atomic", full_disk)
    assert run_cli.main(argv) == 4
    _one_line_error(capsys.readouterr().err, "No space left on device")
    (run_dir,) = (results / "m").iterdir()
    manifest = rf.read_document(run_dir / "run.json")
    assert manifest["status"] == "incomplete"
    assert "No space left on device" in manifest["reason"]
    assert manifest["experiments"]["memory_breakdown"]["status"] == "ok"  # kept
    assert not (run_dir / lock.LOCK_FILE).exists()
    monkeypatch.setattr(rf, "write_atomic", real_write)  # the cause is gone
    assert run_cli.main(["--quiet", "--resume", str(run_dir)]) == 0
    assert rf.read_document(run_dir / "run.json")["status"] == "complete"


@pytest.mark.slow
def test_an_unexpected_error_leaves_the_run_incomplete_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from experiments.core import probe

    def broken(environment: dict[str, Any]) -> None:
        raise RuntimeError("the GPU fell off the bus")

    monkeypatch.setattr(probe, "record_end", broken)
    results = tmp_path / "results"
    argv = [
        "--quiet",
        "--results",
        str(results),
        "--profile",
        "smoke",
        "--only",
        "memory_breakdown",
    ]
    assert run_cli.main([*argv, "--label", "m"]) == 4
    (run_dir,) = (results / "m").iterdir()
    manifest = rf.read_document(run_dir / "run.json")
    assert (manifest["status"], manifest["reason"]) == (
        "incomplete",
        "RuntimeError: the GPU fell off the bus",
    )
    _one_line_error(capsys.readouterr().err, "the GPU fell off the bus")


def test_a_result_that_cannot_be_stored_fails_its_experiment_only() -> None:
    document = {"status": "ok", "reason": None, "data": {"x": float("nan")}}
    stored = measuring.storable(document)
    assert stored["status"] == "failed" and stored["data"] is None
    assert stored["reason"].startswith("result not storable: ValueError: non-finite number nan")


@pytest.mark.slow
def test_a_result_that_does_not_match_its_declaration_fails_that_experiment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked before it is written: stored as `ok`, the reader would refuse the whole run."""
    import experiments.suite.memory_breakdown.measure as memory_measure

    measured = memory_measure.run

    def misshapen(*args: Any) -> dict[str, Any]:
        data: dict[str, Any] = measured(*args)
        data["buckets"] = "parameters, gradients"  # a string where the declaration has a list
        return data

    monkeypatch.setattr(memory_measure, "run", misshapen)
    results = tmp_path / "results"
    argv = ["--quiet", "--results", str(results), "--profile", "smoke", "--label", "m"]
    argv += ["--workers", "0"]  # what is checked is the writing, not the workers' phase
    assert run_cli.main([*argv, "--only", "memory_breakdown,logging_interval"]) == 0
    (run_dir,) = (results / "m").iterdir()
    manifest = rf.read_document(run_dir / "run.json")
    entries = manifest["experiments"]
    assert entries["logging_interval"]["status"] == "ok"
    assert (entries["memory_breakdown"]["status"], entries["memory_breakdown"]["reason"]) == (
        "failed",
        "result does not match its declaration: field 'data.buckets': expected a list, got string",
    )
    stored = rf.read_document(run_dir / "memory_breakdown.json")
    assert (stored["status"], stored["data"]) == ("failed", None)
    assert report_cli.main(["render", str(run_dir), "--no-pdf", "--lang", "en"]) == 0
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="logging_interval"' in page and "cannot be shown" not in page


# --------------------------------------------------------------------------
# 4. Result files that pass JSON but not the contract: render and diff stop, write nothing.

Damage = Callable[[Path], object]


def _edit(name: str, change: Callable[[dict[str, Any]], None]) -> Damage:
    def damage(run_dir: Path) -> None:
        path = run_dir / name
        document = json.loads(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(json.dumps(document), encoding="utf-8")

    return damage


def _text(name: str, replace: tuple[str, str]) -> Damage:
    def damage(run_dir: Path) -> None:
        path = run_dir / name
        path.write_text(path.read_text(encoding="utf-8").replace(*replace, 1), encoding="utf-8")

    return damage


def _iris(document: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = document["data"]["iris"]["per_device"][0]
    return entry


def _times(values: list[float]) -> Callable[[dict[str, Any]], None]:
    return lambda d: _iris(d).__setitem__("times_s", values)


def _deep(run_dir: Path) -> None:
    (run_dir / "cpu_vs_gpu.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


def _folder(run_dir: Path) -> None:
    (run_dir / "cpu_vs_gpu.json").unlink()
    (run_dir / "cpu_vs_gpu.json").mkdir()


def _manifest_file(target: str) -> Damage:
    def change(document: dict[str, Any]) -> None:
        document["experiments"]["cpu_vs_gpu"]["file"] = target

    return _edit("run.json", change)


READER_CASES: list[tuple[str, Damage, str]] = [
    (
        "NaN literal",
        _text("cpu_vs_gpu.json", ('"final_loss": ', '"final_loss": NaN, "x": ')),
        "NaN is not a number",
    ),
    (
        "Infinity literal",
        _text("cpu_vs_gpu.json", ('"final_loss": ', '"final_loss": Infinity, "x": ')),
        "Infinity",
    ),
    ("empty timings", _edit("cpu_vs_gpu.json", _times([])), "expected at least one value"),
    (
        "a zero timing",
        _edit("cpu_vs_gpu.json", _times([0.0, 0.0, 0.0])),
        "expected a number above 0",
    ),
    ("a negative timing", _edit("cpu_vs_gpu.json", _times([-1.0, 0.2, 0.3])), "above 0"),
    (
        "summary not from the raw values",
        _edit("cpu_vs_gpu.json", lambda d: _iris(d)["summary"].__setitem__("median", 0.234)),
        "does not match the 3 raw values",
    ),
    (
        "environment wrong type",
        _edit(
            "environment.json", lambda d: d["cpu"]["frequency_mhz"].__setitem__("current", "fast")
        ),
        "cpu.frequency_mhz.current",
    ),
    (
        "GPU field wrong type",
        _edit(
            "environment.json",
            lambda d: d["gpus"].append({"name": "x", "total_memory_bytes": "lots"}),
        ),
        "gpus[0].total_memory_bytes",
    ),
    ("nested 100,000 deep", _deep, "nested deeper than 32 levels"),
    (
        "file outside the run folder",
        _manifest_file("../../other/cpu_vs_gpu.json"),
        "expected cpu_vs_gpu.json or null",
    ),
    ("absolute file path", _manifest_file("/etc/passwd"), "expected cpu_vs_gpu.json or null"),
    ("truncated", _text("cpu_vs_gpu.json", ("}", "")), "not valid JSON"),
    (
        "newer version",
        _edit("cpu_vs_gpu.json", lambda d: d.__setitem__("schema_version", SCHEMA_VERSION + 1)),
        "newer than this tool reads",
    ),
    (
        "foreign kind",
        _text("cpu_vs_gpu.json", ('"kind": "experiment"', '"kind": "invoice"')),
        "field 'kind'",
    ),
    ("a folder instead of a file", _folder, "is a folder, not a result file"),
    (
        "not UTF-8",
        lambda d: (d / "cpu_vs_gpu.json").write_bytes(b"\xff\xfe\x00garbage"),
        "cannot read",
    ),
    ("missing file", lambda d: (d / "environment.json").unlink(), "file not found"),
    (
        "unknown experiment",
        _edit("cpu_vs_gpu.json", lambda d: d.__setitem__("experiment", "warp")),
        "unknown experiment 'warp'",
    ),
]


@pytest.mark.parametrize(
    ("case", "damage", "message"), READER_CASES, ids=[c[0] for c in READER_CASES]
)
def test_a_bad_result_file_stops_render_and_diff_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    damage: Damage,
    message: str,
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(IDLE, run_dir)
    damage(run_dir)
    before = _digests(run_dir)
    assert report_cli.main(["render", str(run_dir), "--no-pdf", "--lang", "en"]) == 2
    _one_line_error(capsys.readouterr().err, message)
    out = tmp_path / "diff"
    assert report_cli.main(["diff", str(BUSY), str(run_dir), "--out", str(out), "--no-pdf"]) == 2
    _one_line_error(capsys.readouterr().err, message)
    assert _digests(run_dir) == before and not out.exists()


DIFF_CASES: list[tuple[str, list[str], str]] = [
    ("alpha above 1", ["--alpha", "2"], "--alpha 2.0: must be a number between 0 and 1"),
    ("alpha zero", ["--alpha", "0"], "--alpha 0.0: must be a number between 0 and 1"),
    ("alpha NaN", ["--alpha", "nan"], "--alpha nan: must be a number between 0 and 1"),
    ("min-ratio below 1", ["--min-ratio", "0.5"], "--min-ratio 0.5: must be at least 1"),
    ("min-ratio NaN", ["--min-ratio", "nan"], "--min-ratio nan: must be at least 1"),
    ("min-ratio infinite", ["--min-ratio", "inf"], "--min-ratio inf: must be at least 1"),
    ("one run only", [], "give at least two runs to compare"),
    ("baseline out of range", ["--baseline", "5"], "--baseline 5: there are 2 runs"),
]


@pytest.mark.parametrize(("case", "extra", "message"), DIFF_CASES, ids=[c[0] for c in DIFF_CASES])
def test_bad_diff_options_stop_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, extra: list[str], message: str
) -> None:
    runs = [str(IDLE)] if case == "one run only" else [str(IDLE), str(BUSY)]
    out = tmp_path / "diff"
    assert report_cli.main(["diff", *runs, "--out", str(out), "--no-pdf", *extra]) == 2
    _one_line_error(capsys.readouterr().err, message)
    assert not out.exists()


# --------------------------------------------------------------------------
# 5. Outputs that cannot be written: one line, exit 4, the complete set or none of it.


def _render(run_dir: Path, *extra: str) -> int:
    return report_cli.main(["render", str(run_dir), "--no-pdf", "--lang", "en", *extra])


WRITE_CASES: list[tuple[str, Callable[[Path, pytest.MonkeyPatch], list[str]], str]] = [
    (
        "--out names a file",
        lambda d, m: ["--out", str(_make_file(d.parent / "afile"))],
        "is a file, not a folder",
    ),
    (
        "report.html is a folder",
        lambda d, m: _folder_named(d / "report.html"),
        "is a folder, not a file",
    ),
    (
        "full disk",
        lambda d, m: _fail_writes(m, errno.ENOSPC, "No space left on device"),
        "No space left on device",
    ),
    (
        "read-only folder",
        lambda d, m: _fail_staging(m, errno.EROFS, "Read-only file system"),
        "Read-only file system",
    ),
    (
        "permission denied",
        lambda d, m: _fail_staging(m, errno.EACCES, "Permission denied"),
        "Permission denied",
    ),
]


def _folder_named(path: Path) -> list[str]:
    path.unlink()
    path.mkdir()
    return []


def _make_file(path: Path) -> Path:
    path.write_text("x", encoding="utf-8")
    return path


def _fail_writes(monkeypatch: pytest.MonkeyPatch, code: int, text: str) -> list[str]:
    """The second output file's write fails (the first was written in full)."""
    calls = {"n": 0}
    real = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(code, text)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)  # report.outputs.files calls os.fsync
    return []


def _fail_staging(monkeypatch: pytest.MonkeyPatch, code: int, text: str) -> list[str]:
    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, text)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    return []


@pytest.mark.slow
@pytest.mark.parametrize(("case", "setup", "message"), WRITE_CASES, ids=[c[0] for c in WRITE_CASES])
def test_a_report_that_cannot_be_written_leaves_the_earlier_one_untouched(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    setup: Callable[[Path, pytest.MonkeyPatch], list[str]],
    message: str,
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(IDLE, run_dir)
    assert _render(run_dir) == 0  # an earlier, good report
    capsys.readouterr()
    extra = setup(run_dir, monkeypatch)
    before = _digests(tmp_path)
    assert _render(run_dir, *extra) == 4
    _one_line_error(capsys.readouterr().err, message)
    assert _digests(tmp_path) == before  # nothing new, nothing changed, no temporary left


@pytest.mark.slow
def test_a_diff_that_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _make_file(tmp_path / "diff")
    assert report_cli.main(["diff", str(IDLE), str(BUSY), "--out", str(out), "--no-pdf"]) == 4
    _one_line_error(capsys.readouterr().err, "is a file, not a folder")
    folder = tmp_path / "d"
    _fail_writes(monkeypatch, errno.ENOSPC, "No space left on device")
    assert report_cli.main(["diff", str(IDLE), str(BUSY), "--out", str(folder), "--no-pdf"]) == 4
    _one_line_error(capsys.readouterr().err, "No space left on device")
    assert not [p for p in folder.rglob("*") if p.is_file()]


# --------------------------------------------------------------------------
# 6. Text from result files, printed where no HTML escaping protects the reader.

HOSTILE = "<script>alert(1)</script>\x1b[2J*bold* | `tick`"


@pytest.mark.slow
def test_markdown_and_terminal_outputs_escape_what_files_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(BUSY, run_dir)
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    manifest["label"] = HOSTILE
    (run_dir / "run.json").write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "diff"
    assert report_cli.main(["diff", str(IDLE), str(run_dir), "--out", str(out), "--no-pdf"]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\\x1b[2J" in printed
    diff_md = (out / "diff.md").read_text(encoding="utf-8")
    assert "<script>" not in diff_md and "\x1b" not in diff_md
    # what a Markdown viewer shows is the label's characters, as text
    shown = MarkdownIt("commonmark").enable("table").render(diff_md)
    assert "<script>" not in shown
    assert html.escape("<script>alert(1)</script>\\x1b[2J*bold* | `tick`", quote=False) in shown
    assert report_cli.main(["render", str(run_dir), "--no-pdf", "--lang", "en"]) == 0
    report_md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in report_md and "\x1b" not in report_md
    shown = MarkdownIt("commonmark").enable("table").render(report_md)
    assert html.escape("<script>alert(1)</script>\\x1b[2J*bold* | `tick`", quote=False) in shown
    assert "&lt;script&gt;" in (run_dir / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "text",
    [
        "a*b*c",
        "_x_",
        "[link](http://e.x)",
        "![img](x.png)",
        "# heading",
        "a | b",
        "`code`",
        "<b>bold</b>",
        "&amp;",
        "~~gone~~",
        "back\\slash",
        "1. item",
        "> quote",
    ],
)
def test_markdown_text_shows_every_character_as_typed(text: str) -> None:
    shown = (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .render("| a |\n|---|\n| " + markdown_text(text) + " |\n\n" + markdown_text(text))
    )
    assert shown.count(f">{html.escape(text, quote=False)}<") == 2, shown


def test_a_rename_refused_half_way_puts_every_earlier_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A set of outputs is replaced whole or not at all, even when the filesystem refuses a
    rename after others succeeded (a file made immutable, chattr +i)."""
    from report.outputs import files as output_files

    assert output_files.write_all(tmp_path, {"a.html": "old a", "b.md": "old b"})
    real = os.replace

    def refuse_b(source: Any, target: Any) -> None:
        if Path(target).name == "b.md" and ".tmp" in Path(source).name:
            raise PermissionError(1, "Operation not permitted")
        real(source, target)

    monkeypatch.setattr(os, "replace", refuse_b)
    with pytest.raises(output_files.OutputError, match=r"b\.md: Operation not permitted"):
        output_files.write_all(tmp_path, {"a.html": "new a", "b.md": "new b"})
    assert (tmp_path / "a.html").read_text(encoding="utf-8") == "old a"
    assert (tmp_path / "b.md").read_text(encoding="utf-8") == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.md"]
