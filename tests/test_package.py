"""The tool as users install it: a wheel that renders without a checkout, one console script
whose subcommands reach the runner and the renderer, and the runner's arguments told from
the renderer's."""

from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from report.cli import run as run_command
from report.cli.options import EXIT_USAGE
from tests.conftest import FIXTURES, ROOT

PIP = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
FIXTURE_RUN = next((FIXTURES / "fixture-machine-a").iterdir())


@pytest.mark.parametrize(
    ("args", "runner", "render"),
    [
        (["--profile", "quick"], ["--profile", "quick"], []),
        (["--lang", "zh", "--profile", "quick"], ["--profile", "quick"], ["--lang", "zh"]),
        (["--lang=en", "--no-pdf", "--only", "x"], ["--only", "x"], ["--lang=en", "--no-pdf"]),
        (["--lang"], [], ["--lang", "auto"]),
        ([], [], []),
    ],
)
def test_report_splits_the_renderers_options_from_the_runners(
    args: list[str], runner: list[str], render: list[str]
) -> None:
    assert run_command.split_render_options(args) == (runner, render)


@pytest.mark.parametrize(
    ("args", "rendered"),
    [
        (["--profile", "quick"], []),
        (["--results", "out/r"], ["--results", "out/r"]),
        (["--results=out/r", "--results", "x"], ["--results", "x"]),
        (["--resume", "results/m/1"], ["results/m/1"]),
    ],
)
def test_report_renders_the_run_the_runner_wrote(args: list[str], rendered: list[str]) -> None:
    assert run_command.rendered_folder(args) == rendered


@pytest.fixture
def torch_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """This Python as one without torch: the report-only install."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )


@pytest.mark.usefixtures("torch_missing")
def test_run_without_torch_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    called: list[list[str]] = []
    monkeypatch.setattr(subprocess, "call", lambda *a, **k: called.append(a[0]))
    assert run_command.main_run("report", ["--profile", "quick"], "gpu-study", len) == EXIT_USAGE
    assert called == []  # neither the runner nor the renderer was started
    err = capsys.readouterr().err
    assert "'.[run]'" in err and err.count("\n") == 1


@pytest.mark.usefixtures("torch_missing")
def test_run_help_without_torch_says_where_the_options_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_command.main_run("run", ["--help"], "gpu-study", len) == 0
    err = capsys.readouterr().err
    assert "--profile" in err and "--workers" in err and err.count("\n") == 1


@pytest.mark.slow
def test_report_runs_the_runner_then_renders_its_run(tmp_path: Path) -> None:
    results = tmp_path / "results"
    command = [sys.executable, "-m", "report", "report", "--profile", "smoke", "--quiet"]
    command += ["--only", "memory_breakdown", "--results", str(results), "--label", "m"]
    command += ["--no-pdf", "--lang", "zh"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, encoding="utf-8", check=False)
    assert finished.returncode == 0, finished.stderr
    (run_dir,) = (results / "m").iterdir()
    assert (run_dir / "memory_breakdown.json").is_file()
    assert {p.name for p in run_dir.glob("report*")} == {"report.zh.html", "report.zh.md"}
    manifest = (run_dir / "run.json").read_text(encoding="utf-8")
    assert '"invoked_as": "python -m report report --profile smoke' in manifest


def _built_wheel(folder: Path) -> Path:
    """The wheel pip builds from a copy of what packaging reads (setuptools writes build/
    and an egg-info beside the sources: not into the checkout)."""
    source = folder / "source"
    for name in ("pyproject.toml", "setup.py", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    for name in ("experiments", "report", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(folder), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = folder.glob("gpu_study_report-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _built_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.mark.slow
def test_the_wheel_carries_what_rendering_reads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"report/templates/{p.relative_to(ROOT / 'templates').as_posix()}"
        for p in (ROOT / "templates").rglob("*")
        if p.is_file()
    }
    catalogues = {
        f"report/words/{p.relative_to(ROOT / 'report' / 'words').as_posix()}"
        for p in (ROOT / "report" / "words" / "locale").rglob("*.po")
    }
    assert shipped and catalogues and (shipped | catalogues) <= names
    assert not any(name.startswith(("tools/", "tests/", "benchmarks/")) for name in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    parsed = configparser.ConfigParser()
    parsed.read_string(zipfile.ZipFile(wheel).read(entry_points).decode("utf-8"))
    assert dict(parsed["console_scripts"]) == {"gpu-study": "report.cli:main"}


@pytest.mark.slow
def test_the_installed_wheel_renders_a_run_from_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    """The wheel's files alone (installed into a folder of their own, this Python's packages
    beside them), run from a folder that is not the checkout: no templates/ to fall back on."""
    target = tmp_path / "site"
    subprocess.run(
        [*PIP, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sys, report, report.outputs.shipped as s; "
        "print(report.__file__); print(s.TEMPLATES); "
        "from report.cli import main; "
        f"sys.exit(main(['render', {str(FIXTURE_RUN)!r}, '--out', {str(out)!r}, "
        "'--no-pdf', '--lang', 'zh']))"
    )
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    finished = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, encoding="utf-8"
    )
    assert finished.returncode == 0, finished.stderr
    module_file, templates = finished.stdout.splitlines()[:2]
    assert Path(module_file).is_relative_to(target)  # not the checkout's report/
    assert Path(templates) == target / "report" / "templates"
    html = (out / "report.zh.html").read_text(encoding="utf-8")
    assert 'lang="zh-Hans"' in html and "@font-face" in html  # catalogue and fonts found
    assert len(list((out / "figures").glob("*.zh.svg"))) > 5
