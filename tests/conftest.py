"""Shared fixtures: one small real run, made once per test session in its own process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Runs in the current format (one machine, idle then busy; `quick` profile)...
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "runs"
# ...and runs written by version 1 of the format, which the reader upgrades.
V1_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "v1"
V3_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "v3"


# Fixtures that make a real run of the experiments (seconds, once per session): a test that
# uses one is slow, however quick its own body.
REAL_RUNS = {"smoke_run", "smoke_report", "chinese_named_run", "with_stand_in"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_RUNS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def english_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--lang auto` (every command's default) follows the user's locale; the tests name
    their language, so they pass on a Chinese Windows or a zh_CN terminal too."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setattr("report.words.i18n._windows_ui_language", lambda: None)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete smoke-profile run folder of every experiment, on the CPU and a stand-in GPU,
    produced by the real command line in its own process."""
    results = tmp_path_factory.mktemp("results")
    command = [
        sys.executable,
        "-m",
        "tests.standin",
        "--profile",
        "smoke",
        "--quiet",
        "--results",
        str(results),
        "--label",
        "test-machine",
    ]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return Path((results / "LAST_RUN").read_text(encoding="utf-8").strip())


@pytest.fixture(scope="session")
def smoke_report(smoke_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the smoke run, rendered once in each language by the real command line
    (HTML and Markdown with figures; the PDFs are tested on a smaller run, they are slow)."""
    from report import cli

    target = tmp_path_factory.mktemp("report") / "run"
    shutil.copytree(smoke_run, target)
    for language in ("en", "zh"):
        assert cli.main(["render", str(target), "--no-pdf", "--lang", language]) == 0
    return target
