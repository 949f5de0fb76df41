"""`class PATH…`: every run folder under the paths in one page (class.html, class.md with its
figures, class.pdf, class.json), written all or nothing into --out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from experiments.contract.format import RUN_FILE, ResultFormatError, dumps, read_document
from report.cli.options import (
    EXIT_NO_PDF,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WRITE,
    add_language_option,
    suffix,
)
from report.cli.writing import add_pdf, remove_stale, say_no_pdf, say_written, write
from report.outputs.escaping import terminal_text
from report.words import i18n


def _given_path(text: str) -> Path:
    """A path as given: an empty one (an unset shell variable) is not the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path (an unset variable?)")
    return Path(text)


def add_class_parser(commands: Any) -> None:
    page = commands.add_parser(
        "class",
        help="many machines' runs in one page, ranked",
        description="Find every run folder under the paths (a shared drive's results/, or run "
        "folders named one by one) and write one page: a row per machine, each experiment's "
        "headline figures ranked, the machines that differ from the class median beyond "
        "noise and drift (the diff's tests, one family for the page), and plots across "
        "machines. Runs of another profile or other settings are ranked apart; a machine run "
        "several times is one machine; older formats are upgraded; unreadable files are left "
        "out with one line each; a copy of a run is counted once. Writes class.html, class.md "
        "(with figures/), class.pdf and class.json into --out (a language other than English "
        "adds its code: class.zh.html).",
    )
    page.add_argument(
        "paths", nargs="+", type=_given_path, help="run folders, or folders to search for them"
    )
    page.add_argument(
        "--out",
        type=Path,
        default=Path("class"),
        help="folder for the outputs (default: %(default)s)",
    )
    page.add_argument(
        "--mine",
        type=Path,
        metavar="RUN_DIR",
        help="your run folder: its machine is marked throughout (read even if it is not "
        "under the paths)",
    )
    page.add_argument(
        "--anonymize",
        action="store_true",
        help="name machines Machine A, B, … and files by their names only, for sharing",
    )
    page.add_argument(
        "--pool",
        action="store_true",
        help="pool the timings of all of a machine's runs with the same settings (default: "
        "its latest run)",
    )
    page.add_argument(
        "--alpha",
        type=float,
        default=0.01,
        help="the chance of any false slower/faster verdict on the whole page, in (0, 1) "
        "(default: %(default)s)",
    )
    page.add_argument(
        "--min-ratio",
        type=float,
        default=1.05,
        help="smallest ratio to the class median that counts, at least 1 (default: "
        "%(default)s); the machines' measured drift can raise it",
    )
    page.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    add_language_option(page)


def _progress(done: int, total: int) -> None:
    step = max(1, total // 10)
    if total >= 20 and (done % step == 0 or done == total):
        print(
            i18n._("reading run folders: {done} of {total}").format(done=done, total=total),
            file=sys.stderr,
            flush=True,
        )


def _earlier_outputs(out: Path, tail: str) -> list[Path]:
    """The files an earlier class page of this language may have left in --out."""
    figures = [
        path
        for path in (out / "figures").glob("*.svg")
        if path.name.endswith(f"{tail}.svg")
        and (tail or not any(path.name.endswith(f".{code}.svg") for code in i18n.LANGUAGES))
    ]
    return [out / f"class{tail}.pdf", *figures]


def _identity(run_dir: Path | None) -> tuple[str, str] | None:
    """A run folder's label and run id, as its run.json says (None where it cannot)."""
    if run_dir is None:
        return None
    try:
        manifest = read_document(run_dir / RUN_FILE, "run")
    except ResultFormatError:
        return None
    return manifest["label"], manifest["run_id"]


def run_class(args: argparse.Namespace, language: str) -> int:
    from report.classview import document, group, rank, views
    from report.classview.collect import collect
    from report.diff.compare import DiffRefused, check_options
    from report.outputs import markdown

    try:
        check_options(args.alpha, args.min_ratio)
    except DiffRefused as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    paths = list(args.paths)
    if args.mine is not None:
        if not (args.mine / RUN_FILE).is_file():
            print(
                f"error: --mine {terminal_text(str(args.mine))}: not a run folder (no run.json)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        paths.append(args.mine)
    collected = collect(paths, _progress)
    for problem in collected.problems:
        print(
            i18n._("left out: {path}: {reason}").format(
                path=terminal_text(str(problem.path)), reason=terminal_text(problem.reason)
            ),
            file=sys.stderr,
        )
    if not collected.runs:
        print(i18n._("error: no run folder could be read under the paths given"), file=sys.stderr)
        return EXIT_USAGE
    tail = suffix(language)
    with i18n.using(language):  # the console's language may differ (report.cli.main)
        anonymous = i18n._("Machine {letter}") if args.anonymize else None
        names = group.machine_names(collected.runs, anonymous)
        # class.json is one file for every language: anonymous names in English there
        english = group.machine_names(collected.runs, "Machine {letter}")
        json_names = {names[key]: english[key] for key in names} if args.anonymize else None
        cohorts = group.cohorts(collected.runs, names, args.mine, _identity(args.mine))
        result = rank.build(
            collected, cohorts, pooled=args.pool, alpha=args.alpha, min_ratio=args.min_ratio
        )
        page = views.html(result, [p.resolve() for p in args.paths], args.anonymize)
        text, figures = markdown.from_html(page, "{section}-{number}" + tail + ".svg")
    files: dict[str, bytes | str] = {
        f"class{tail}.html": page,
        f"class{tail}.md": text,
        "class.json": dumps(document.document(result, args.anonymize, json_names)),
        **{f"figures/{name}": svg for name, svg in figures.items()},
    }
    no_pdf = None if args.no_pdf else add_pdf(files, f"class{tail}.pdf", page, args.out)
    written = write(args.out, files)
    if written is None:
        return EXIT_WRITE
    remove_stale(args.out, written, _earlier_outputs(args.out, tail))
    say_written(args.out, written)
    if no_pdf:
        message = i18n._("{reason}. The class page itself is complete: {html}")
        say_no_pdf(message, no_pdf, written, args.out)
        return EXIT_NO_PDF
    return EXIT_OK
