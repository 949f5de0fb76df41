"""Without WeasyPrint's system libraries the HTML and Markdown are still written, with one
line saying what is missing and how to install it on this OS; the exit status tells "HTML
only" (3) from success (0) and failure. Simulated here the way it fails on Windows: the
import raises OSError from cffi's dlopen."""

from __future__ import annotations

import importlib.abc
import shutil
import sys
from pathlib import Path

import pytest

from report import cli as report_cli
from report.cli.options import EXIT_NO_PDF
from report.outputs import pdf
from tests.conftest import FIXTURES

IDLE = next((FIXTURES / "fixture-machine-a").iterdir())
BUSY = next((FIXTURES / "fixture-machine-b-busy").iterdir())
MISSING = "cannot load library 'libgobject-2.0-0': error 0x7e"


class _NoPango(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError(MISSING)
        return None


@pytest.fixture
def no_pango(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])


def _one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("no PDF")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.slow
def test_render_keeps_the_html_and_says_how_to_get_pdfs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_pango: None
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(IDLE, run_dir)
    assert report_cli.main(["render", str(run_dir), "--lang", "en"]) == EXIT_NO_PDF
    line = _one_line(capsys.readouterr().err)
    assert MISSING in line and "The report itself is complete" in line
    assert str(run_dir / "report.html") in line
    assert (run_dir / "report.html").stat().st_size > 10_000
    assert (run_dir / "report.md").exists() and not (run_dir / "report.pdf").exists()


def test_diff_keeps_markdown_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_pango: None
) -> None:
    out = tmp_path / "diff"
    assert report_cli.main(["diff", str(IDLE), str(BUSY), "--out", str(out)]) == 3
    line = _one_line(capsys.readouterr().err)
    assert "The comparison itself is complete" in line
    assert {p.name for p in out.iterdir()} == {"diff.md", "diff.html", "diff.json"}


@pytest.mark.parametrize(
    ("system", "ids", "says"),
    [
        ("Windows", (), "$env:WEASYPRINT_DLL_DIRECTORIES="),
        ("Darwin", (), "brew install pango"),
        ("Linux", ("debian",), "sudo apt install libpango-1.0-0"),
        ("Linux", ("ubuntu", "debian"), "sudo apt install libpango-1.0-0"),
        ("Linux", ("fedora",), "sudo dnf install pango"),
        ("Linux", ("alpine",), "package manager"),
    ],
)
def test_the_advice_names_this_systems_install_command(
    system: str, ids: tuple[str, ...], says: str
) -> None:
    assert says in pdf.install_advice(system, ids)
