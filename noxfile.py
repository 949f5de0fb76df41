"""The user's entry points.

`nox -s report` runs every experiment on every device present and renders the
write-up; `nox -s tests` runs the test suite. Arguments after `--` go to the
underlying command (`python -m experiments --help`, `python -m report --help`).

Which torch build is installed is chosen here, not in pyproject.toml, because
the right build depends on the machine:

- TORCH_REQUIREMENT  the pip requirement for torch (default: torch==2.13.0).
- TORCH_INDEX_URL    an index to take it from, e.g.
                     https://download.pytorch.org/whl/cpu for a small CPU-only
                     build, or https://download.pytorch.org/whl/cu126 for a
                     given CUDA version. Unset: PyPI, whose Linux wheels are
                     CUDA builds.
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")
TORCH_REQUIREMENT = os.environ.get("TORCH_REQUIREMENT", "torch==2.13.0")
TORCH_INDEX_URL = os.environ.get("TORCH_INDEX_URL", "")


def _install_torch(session: nox.Session) -> None:
    index = ["--index-url", TORCH_INDEX_URL] if TORCH_INDEX_URL else []
    session.install(TORCH_REQUIREMENT, *index)


def _invocation(session: nox.Session) -> dict[str, str]:
    """Tell the runner the command the user typed, for the report's reproducibility section."""
    extra = " -- " + " ".join(session.posargs) if session.posargs else ""
    return {"STUDY_INVOKED_AS": f"nox -s {session.name}{extra}"}


def _install_runner(session: nox.Session) -> None:
    _install_torch(session)
    session.install("-e", ".[run]")


@nox.session
def run(session: nox.Session) -> None:
    """Run the experiments only; results go to results/<label>/<run-id>/."""
    _install_runner(session)
    session.run("python", "-m", "experiments", *session.posargs, env=_invocation(session))


@nox.session
def render(session: nox.Session) -> None:
    """Render HTML + PDF from a run folder (default: the last run). Needs no torch."""
    session.install("-e", ".")
    session.run("python", "-m", "report", "render", *session.posargs)


@nox.session
def diff(session: nox.Session) -> None:
    """Compare runs: nox -s diff -- results/A/<run> results/B/<run> [--fail-on-regression]."""
    session.install("-e", ".")
    session.run("python", "-m", "report", "diff", *session.posargs)


def split_render_options(args: list[str]) -> tuple[list[str], list[str]]:
    """The runner's arguments, and the renderer's (--lang, --no-pdf) taken out of them."""
    runner: list[str] = []
    render: list[str] = []
    items = iter(args)
    for item in items:
        if item == "--lang":
            render += [item, next(items, "auto")]
        elif item.startswith("--lang=") or item == "--no-pdf":
            render.append(item)
        else:
            runner.append(item)
    return runner, render


@nox.session
def report(session: nox.Session) -> None:
    """Run the experiments, then render the report (HTML, Markdown, PDFs) into the run folder.

    Arguments after -- go to the runner (see `nox -s run -- --help`), except --lang and
    --no-pdf, which go to the renderer (see `nox -s render -- --help`)."""
    _install_runner(session)
    runner_args, render_args = split_render_options(list(session.posargs))
    session.run("python", "-m", "experiments", *runner_args, env=_invocation(session))
    session.run("python", "-m", "report", "render", *render_args)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (quick profile; no GPU needed)."""
    _install_runner(session)
    session.install(*nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy (strict) over the whole project."""
    _install_runner(session)
    session.install(*nox.project.dependency_groups(PYPROJECT, "test", "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side: the notes' bare Iris loop against the harness; prints the ratio."""
    _install_runner(session)
    session.run("python", "benchmarks/harness_overhead.py", *session.posargs)
