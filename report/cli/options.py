"""What the tool's commands share: exit codes, the language option, the file-name suffix
and the name the user called the tool by. Its own module so that no command's module needs
another's (report/cli/__init__.py imports each, none imports it back).
"""

from __future__ import annotations

import argparse
import os
import sys

from report.words import i18n

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
EXIT_NO_PDF = 3
EXIT_WRITE = 4


# Set for the runner's child process, so that its usage line and its advice name the command
# the user typed (`gpu-study run`), not `python -m experiments`.
RUNNER_PROG_ENV = "STUDY_RUNNER_PROG"
MODULE_PROG = "python -m report"


def program_name() -> str:
    """How the user started this: the console script's name, or `python -m report`."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    stem = name.removesuffix(".exe").removesuffix("-script.py")
    return stem if stem and stem not in ("__main__.py", "-c") else MODULE_PROG


def runner_command() -> str:
    """The command that runs the experiments, as the user would type it now."""
    prog = program_name()
    return "python -m experiments" if prog == MODULE_PROG else f"{prog} run"


def suffix(language: str) -> str:
    """File names carry the language, except the source language's: report.zh.html."""
    return "" if language == i18n.SOURCE_LANGUAGE else f".{language}"


def add_language_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=("auto", *i18n.LANGUAGES),
        default="auto",
        help="language of the outputs: en (English), zh (Simplified Chinese) or auto, the "
        "language of your system's locale (Chinese for a zh_* locale, else English). "
        "Default: auto",
    )
