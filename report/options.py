"""What the report's two commands, render and diff, share: exit codes, the language
option and the file-name suffix. Its own module so that the diff's command line needs
nothing from render's (report/cli.py imports report/diff_cli.py, never the other way).
"""

from __future__ import annotations

import argparse

from report import i18n

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_USAGE = 2
EXIT_NO_PDF = 3
EXIT_WRITE = 4


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
