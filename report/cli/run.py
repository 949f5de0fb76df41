"""`run` and `report`: the experiments, run by their own command line in a child process.

The report side never imports the measuring side (it needs no torch, and a classmate's
results render without it), so running the experiments from this command line means
starting `python -m experiments` with the same Python. `report` then renders the run it
wrote, as `nox -s report` does: `nox -s report` calls this.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from report.cli.options import EXIT_OK, EXIT_USAGE, RUNNER_PROG_ENV, runner_command

# The renderer's options among `report`'s arguments; every other one is the runner's.
RENDER_FLAGS = ("--no-pdf",)
RENDER_VALUED = ("--lang",)
# Runner options after which nothing is measured, so nothing is rendered.
NOTHING_RUN = ("--list", "-h", "--help")


def add_run_parsers(commands: Any) -> None:
    """`run` and `report` in the help; their arguments are read by the runner itself."""
    commands.add_parser(
        "run",
        help="run the experiments (needs torch); every option is the runner's: run --help",
        add_help=False,
    )
    commands.add_parser(
        "report",
        help="run the experiments, then render the report (--lang and --no-pdf go to render, "
        "the rest to the runner)",
        add_help=False,
    )


def split_render_options(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """The runner's arguments, and the renderer's (--lang, --no-pdf) taken out of them."""
    runner: list[str] = []
    render: list[str] = []
    items = iter(args)
    for item in items:
        if item in RENDER_VALUED:
            render += [item, next(items, "auto")]
        elif item.startswith(tuple(f"{flag}=" for flag in RENDER_VALUED)) or item in RENDER_FLAGS:
            render.append(item)
        else:
            runner.append(item)
    return runner, render


def _option(args: Sequence[str], name: str) -> str | None:
    """The last value given to a runner option (`--name V` or `--name=V`)."""
    found = None
    for index, item in enumerate(args):
        if item == name and index + 1 < len(args):
            found = args[index + 1]
        elif item.startswith(name + "="):
            found = item.split("=", 1)[1]
    return found


def rendered_folder(runner_args: Sequence[str]) -> list[str]:
    """What `render` is given after a successful run: the resumed folder, or the results
    root whose LAST_RUN the runner just wrote."""
    resumed = _option(runner_args, "--resume")
    if resumed is not None:
        return [resumed]
    results = _option(runner_args, "--results")
    return ["--results", results] if results is not None else []


def run_experiments(args: Sequence[str], invoked_as: str) -> int:
    """`python -m experiments ARGS` in a child process with this Python; its exit status."""
    if importlib.util.find_spec("torch") is None:
        asked_for_help = any(item in ("-h", "--help") for item in args)
        print(
            (
                "the runner's options (--profile, --only, --set, --seed, --label, --results, "
                "--resume, --workers, --list, --quiet) are listed by its own --help, which "
                "needs torch: "
                if asked_for_help
                else "error: running the experiments needs torch, which this Python lacks: "
            )
            + "install the tool with its 'run' extra (pip install '.[run]', pipx run --spec "
            "'.[run]' gpu-study …), which takes torch from PyPI as it is (on Linux a CUDA "
            "build of several GB); or from a checkout use nox -s report, which picks the "
            "build that fits this machine",
            file=sys.stderr,
        )
        return EXIT_OK if asked_for_help else EXIT_USAGE
    env = dict(os.environ)
    env.setdefault("STUDY_INVOKED_AS", invoked_as)
    env[RUNNER_PROG_ENV] = runner_command()
    try:
        return subprocess.call([sys.executable, "-m", "experiments", *args], env=env)
    except KeyboardInterrupt:  # the child got the same Ctrl-C and marked its run
        return 130


def main_run(
    command: str, args: Sequence[str], prog: str, render: Callable[[list[str]], int]
) -> int:
    """`run ARGS` or `report ARGS` (see the module's docstring); `render` is the render
    command's own entry, given its arguments."""
    invoked_as = shlex.join([*prog.split(), command, *args])
    if command == "run":
        return run_experiments(args, invoked_as)
    runner_args, render_args = split_render_options(args)
    status = run_experiments(runner_args, invoked_as)
    if status != EXIT_OK or any(item in NOTHING_RUN for item in runner_args):
        return status
    return render([*rendered_folder(runner_args), *render_args])
