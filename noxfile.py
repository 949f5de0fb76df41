"""The user's entry points.

`nox -s report` runs every experiment on every device present and renders the
write-up; `nox -s tests` runs the test suite. Arguments after `--` go to the
underlying command (`python -m experiments --help`, `python -m report --help`).

One environment with torch serves every session that needs it (report, run,
tests, lint, bench): `.nox/torch`, created on first use and brought up to date
when pyproject.toml or the torch choice changes. render and diff need no torch:
they use that environment where it exists, else one small environment of their
own (`.nox/report`), so a classmate's results render without a torch download.

Which torch build is installed is chosen here, not in pyproject.toml, because
the right build depends on the machine:

- TORCH_REQUIREMENT  the pip requirement for torch (default: torch==2.13.0).
- TORCH_INDEX_URL    an index to take it from, e.g.
                     https://download.pytorch.org/whl/cpu for a small CPU-only
                     build, or https://download.pytorch.org/whl/cu128 for a
                     given CUDA version. Unset: PyPI, whose Linux wheels are
                     CUDA builds and whose Windows wheels are CPU-only; on
                     Windows with an NVIDIA GPU the CUDA build that fits the
                     driver is chosen instead (one line says which).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import nox

# nox.project.dependency_groups arrived in 2025.2.9; an older nox (Debian 12 ships 2022.11)
# stops here with one line instead of an AttributeError.
nox.needs_version = ">=2025.2.9"
nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).resolve().parent
SHARED = ROOT / ".nox" / "torch"
LIGHT = ROOT / ".nox" / "report"  # render and diff where no torch environment exists yet
TORCH_REQUIREMENT = os.environ.get("TORCH_REQUIREMENT", "torch==2.13.0")


def _wheels() -> ModuleType:
    """experiments/contract/gpu_support.py, loaded by path: no environment exists yet."""
    path = ROOT / "experiments" / "contract" / "gpu_support.py"
    spec = importlib.util.spec_from_file_location("gpu_support", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_support"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def torch_index(session: nox.Session) -> str:
    """TORCH_INDEX_URL, or on a platform whose PyPI torch has no CUDA but an NVIDIA GPU is
    present, the PyTorch index of the CUDA build the driver can run ("" = PyPI)."""
    chosen = os.environ.get("TORCH_INDEX_URL", "")
    if chosen or platform.system() not in _wheels().PYPI_CPU_ONLY:
        return chosen
    wheels = _wheels()
    answer = wheels.query_nvidia_smi() or wheels.DriverAnswer()
    decision = wheels.decide(answer, None, None)
    if decision.status == "no_gpu":
        return ""
    gpu = answer.gpus[0]
    if decision.index_url is None:
        session.log(
            f"{gpu} found, but its driver ({answer.driver_version}, CUDA "
            f"{wheels.cuda_text(answer.cuda_version)}) is too old for any CUDA build of torch: "
            "installing the CPU build; update the NVIDIA driver to measure the GPU"
        )
        return ""
    session.log(
        f"{gpu} found (driver {answer.driver_version}, CUDA "
        f"{wheels.cuda_text(answer.cuda_version)}): installing torch from {decision.index_url}; "
        "set TORCH_INDEX_URL to choose another build"
    )
    return str(decision.index_url)


def _pyproject() -> dict[str, Any]:
    return nox.project.load_toml(ROOT / "pyproject.toml")


def _shared_python(session: nox.Session) -> str:
    """The shared torch environment's Python, created or brought up to date first."""
    python = _python_in(SHARED)
    index = torch_index(session)
    groups = nox.project.dependency_groups(_pyproject(), "test", "lint")
    wanted = {
        "torch": TORCH_REQUIREMENT,
        "index": index,
        "pyproject": hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest(),
        "python": sys.version_info[:2],
    }
    stamp = SHARED / "installed.json"
    if (
        python.exists()
        and stamp.exists()
        and json.loads(stamp.read_text(encoding="utf-8")) == json.loads(json.dumps(wanted))
    ):
        return str(python)
    if not python.exists():
        session.run(sys.executable, "-m", "venv", str(SHARED), external=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    session.run(*pip, "--upgrade", "pip", external=True)
    session.run(*pip, TORCH_REQUIREMENT, *(["--index-url", index] if index else []), external=True)
    session.run(*pip, "-e", f"{ROOT}[run]", *groups, external=True)
    stamp.write_text(json.dumps(wanted), encoding="utf-8")
    return str(python)


def _python_in(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _report_python(session: nox.Session) -> str:
    """render's and diff's Python: the torch environment's when it is up to date (it holds
    everything they need: no second copy of matplotlib and WeasyPrint on disk), else a
    small shared one without torch."""
    pyproject = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    for folder in (SHARED, LIGHT):
        stamp = folder / "installed.json"
        if (
            _python_in(folder).exists()
            and stamp.exists()
            and json.loads(stamp.read_text(encoding="utf-8")).get("pyproject") == pyproject
        ):
            return str(_python_in(folder))
    if not _python_in(LIGHT).exists():
        session.run(sys.executable, "-m", "venv", str(LIGHT), external=True)
    pip = [str(_python_in(LIGHT)), "-m", "pip", "install", "--quiet"]
    session.run(*pip, "--upgrade", "pip", external=True)
    session.run(*pip, "-e", str(ROOT), external=True)
    (LIGHT / "installed.json").write_text(json.dumps({"pyproject": pyproject}), encoding="utf-8")
    return str(_python_in(LIGHT))


def _invocation(session: nox.Session) -> dict[str, str]:
    """Tell the runner the command the user typed, for the report's reproducibility section."""
    extra = " -- " + " ".join(session.posargs) if session.posargs else ""
    return {"STUDY_INVOKED_AS": f"nox -s {session.name}{extra}"}


@nox.session(venv_backend="none")
def run(session: nox.Session) -> None:
    """Run the experiments only; results go to results/<label>/<run-id>/."""
    python = _shared_python(session)
    session.run(
        python, "-m", "experiments", *session.posargs, env=_invocation(session), external=True
    )


@nox.session(venv_backend="none")
def render(session: nox.Session) -> None:
    """Render HTML + PDF from a run folder (default: the last run). Needs no torch."""
    python = _report_python(session)
    # exit 3: HTML and Markdown written, no PDF (the renderer said why): not a failure here
    session.run(
        python, "-m", "report", "render", *session.posargs, external=True, success_codes=[0, 3]
    )


@nox.session(venv_backend="none")
def diff(session: nox.Session) -> None:
    """Compare runs: nox -s diff -- results/A/<run> results/B/<run> [--fail-on-regression]."""
    python = _report_python(session)
    # exit 3: diff.md, .html and .json written, no PDF; exit 1 (a regression) still fails
    session.run(
        python, "-m", "report", "diff", *session.posargs, external=True, success_codes=[0, 3]
    )


@nox.session(venv_backend="none", name="class")
def class_view(session: nox.Session) -> None:
    """Many machines' runs in one page: nox -s class -- results/ [--mine RUN] [--lang zh].
    Writes class.html, class.md, class.pdf and class.json into class/ (--out). Needs no torch."""
    python = _report_python(session)
    # exit 3: the page written without its PDF (the renderer said why): not a failure here
    session.run(
        python, "-m", "report", "class", *session.posargs, external=True, success_codes=[0, 3]
    )


@nox.session(venv_backend="none")
def report(session: nox.Session) -> None:
    """Run the experiments, then render the report (HTML, Markdown, PDFs) into the run folder.

    Arguments after -- go to the runner (see `nox -s run -- --help`), except --lang and
    --no-pdf, which go to the renderer (see `nox -s render -- --help`). Without the PDF
    libraries the HTML and Markdown are still written, and one line says how to get PDFs."""
    python = _shared_python(session)
    # the tool's own `report` command: the runner in a child process, then the render
    # (exit 3: HTML and Markdown written, no PDF, the renderer said why: not a failure here)
    session.run(
        python,
        "-m",
        "report",
        "report",
        *session.posargs,
        env=_invocation(session),
        external=True,
        success_codes=[0, 3],
    )


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Run the test suite (the smoke profile; no GPU needed). Reading or writing a file in the
    locale's encoding is an error here (EncodingWarning): on a Chinese Windows that is GBK."""
    python = _shared_python(session)
    session.run(
        python,
        "-m",
        "pytest",
        *_test_processes(session.posargs),
        *session.posargs,
        env={"PYTHONWARNDEFAULTENCODING": "1"},
        external=True,
    )


def _test_processes(posargs: list[str]) -> list[str]:
    """pytest-xdist's `-n`: one test process per core, at most 4, unless the caller chose
    (`-n 0` runs them in this process). Each process makes its own copy of the session's
    real runs (the smoke run takes about 25 s), so more processes mostly repeat that work;
    on 2 cores two halve the suite's time."""
    if any(a.startswith(("-n", "--numprocesses", "--dist")) or "xdist" in a for a in posargs):
        return []
    count = min(4, os.cpu_count() or 1)
    return ["-n", str(count)] if count > 1 else []


@nox.session(venv_backend="none")
def windows(session: nox.Session) -> None:
    """The product on Windows CPython 3.11 under Wine (tests/windows/lane.py): every experiment,
    render, diff, the run-folder lock, --resume and the tests that need no POSIX. Needs Wine
    (apt-get install wine64 wine locales); builds its Windows Python once, in .nox/windows/."""
    session.run(
        sys.executable, str(ROOT / "tests" / "windows" / "lane.py"), *session.posargs, external=True
    )


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """ruff and mypy (strict) over the whole project."""
    python = _shared_python(session)
    session.run(python, "-m", "ruff", "check", ".", external=True)
    session.run(python, "-m", "ruff", "format", "--check", ".", external=True)
    session.run(python, "-m", "mypy", external=True)


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Side-by-side: the notes' bare Iris loop against the harness; prints the ratio. With
    `-- comparisons`, the diff's A/A and planted-slowdown check (benchmarks/comparisons.py)."""
    python = _shared_python(session)
    args = list(session.posargs)
    if args[:1] == ["comparisons"]:
        session.run(python, "benchmarks/comparisons.py", *args[1:], external=True)
        return
    session.run(python, "benchmarks/harness_overhead.py", *args, external=True)
