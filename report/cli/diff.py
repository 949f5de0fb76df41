"""`python -m report diff RUN RUN …`: its options and what it writes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from experiments.contract.format import ResultFormatError, dumps
from report.cli.options import (
    EXIT_NO_PDF,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_USAGE,
    EXIT_WRITE,
    add_language_option,
    suffix,
)
from report.cli.writing import add_pdf, say_no_pdf, say_written, write
from report.outputs.escaping import terminal_text
from report.words import i18n


def add_diff_parser(commands: Any) -> None:
    compare = commands.add_parser(
        "diff",
        help="compare runs from different machines",
        description="Compare run folders (or single experiment files): the machines' hardware and "
        "software differences first, then per timing the ratio to the baseline, its 95 % "
        "interval and a verdict that needs three things to agree: a test (Holm-corrected over "
        "every timing), a minimum ratio, and a ratio beyond what the machines' own changes of "
        "speed explain. A timing measured in several processes a side (the run's workers) is "
        "tested on their medians (the moderated t test), against the shift of the machine's "
        "level between the runs; any other, on the values of one process a side (Mann–Whitney "
        "U), against the machines' widest drift. Prints a table and writes diff.md, diff.html, "
        "diff.pdf and diff.json (for scripts).",
    )
    compare.add_argument("runs", nargs="+", type=Path, help="run folders or experiment files")
    compare.add_argument(
        "--baseline",
        type=int,
        default=0,
        help="index of the baseline among the runs (default: 0, the first)",
    )
    compare.add_argument(
        "--alpha",
        type=float,
        default=0.01,
        help="the chance of any false SLOWER/faster verdict in the whole diff, in (0, 1) "
        "(Holm's correction over every timing; default: %(default)s)",
    )
    compare.add_argument(
        "--min-ratio",
        type=float,
        default=1.05,
        help="smallest ratio of medians that counts, at least 1 (default: %(default)s); the "
        "machines' measured drift can raise it",
    )
    compare.add_argument(
        "--force", action="store_true", help="compare even when the experiments' settings differ"
    )
    compare.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when any timing is significantly slower than the baseline",
    )
    compare.add_argument(
        "--out",
        type=Path,
        default=Path("diff"),
        help="folder for diff.md, diff.html, diff.pdf, diff.json (default: %(default)s)",
    )
    compare.add_argument("--no-pdf", action="store_true", help="skip the PDF")

    add_language_option(compare)


def run_diff(args: argparse.Namespace, language: str) -> int:
    from report.diff.compare import DiffRefused, diff, load_inputs
    from report.diff.document import document
    from report.diff.views import html, markdown, terminal

    try:
        result = diff(
            load_inputs(args.runs),
            baseline=args.baseline,
            alpha=args.alpha,
            min_ratio=args.min_ratio,
            force=args.force,
        )
    except (ResultFormatError, DiffRefused) as error:
        print(f"error: {terminal_text(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    print(terminal(result))
    tail = suffix(language)
    with i18n.using(language):  # the console's language may differ (report.cli.main)
        page = html(result)
        files: dict[str, bytes | str] = {
            f"diff{tail}.md": markdown(result),
            f"diff{tail}.html": page,
            "diff.json": dumps(document(result)),  # numbers and identifiers: for every language
        }
    no_pdf = None if args.no_pdf else add_pdf(files, f"diff{tail}.pdf", page, args.out)
    written = write(args.out, files)
    if written is None:
        return EXIT_WRITE
    print()
    say_written(args.out, written)
    if no_pdf:
        message = i18n._("{reason}. The comparison itself is complete: {html}")
        say_no_pdf(message, no_pdf, written, args.out)
    if args.fail_on_regression and result.regressions:
        print(
            i18n._("{count} significant slowdown(s) against the baseline").format(
                count=len(result.regressions)
            ),
            file=sys.stderr,
        )
        return EXIT_REGRESSION
    return EXIT_NO_PDF if no_pdf else EXIT_OK
