"""`render [RUN_DIR]`: one run folder made into report.html, report.md with its figures,
report.pdf and one PDF per experiment, in the reader's language."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from experiments.contract import console
from experiments.contract.format import LAST_RUN_FILE, ResultFormatError
from report.cli.options import (
    EXIT_NO_PDF,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_WRITE,
    add_language_option,
    runner_command,
    suffix,
)
from report.cli.writing import say_no_pdf, say_written, write
from report.outputs import markdown
from report.outputs.escaping import terminal_text
from report.outputs.pdf import PdfUnavailable, html_to_pdf
from report.render.load import RunResults, load_run
from report.render.page import ordered, render_html
from report.words import i18n


def last_run(results: Path) -> Path:
    """The run folder the last `python -m experiments` wrote (results/LAST_RUN)."""
    pointer = results / LAST_RUN_FILE
    if not pointer.is_file():
        raise ResultFormatError(
            pointer,
            "",
            "no run recorded yet; run the experiments first (nox -s run) or name a run folder",
        )
    return Path(pointer.read_text(encoding="utf-8").strip())


def add_render_parser(commands: Any) -> None:
    render = commands.add_parser(
        "render",
        help="render one run folder",
        description="Validate every file of a run folder, then write report.html, report.md "
        "with its figures/, report.pdf and report-<experiment>.pdf (into the run folder unless "
        "--out says otherwise; a language other than English adds its code: report.zh.html). "
        "Nothing is written if a file is bad, and an earlier report is only ever replaced by "
        "a complete new one.",
    )
    render.add_argument(
        "run_dir",
        nargs="?",
        type=Path,
        help="results/<label>/<run-id> (default: the last run, from results/LAST_RUN)",
    )
    render.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        help="where to look for LAST_RUN (default: %(default)s)",
    )
    render.add_argument("--out", type=Path, help="folder for the outputs (default: the run folder)")
    render.add_argument(
        "--no-pdf", action="store_true", help="write the HTML and Markdown only (fast)"
    )
    add_language_option(render)


def report_files(
    run: RunResults, language: str, pdf: bool, progress: Callable[[str], None]
) -> tuple[dict[str, bytes | str], str | None]:
    """Every output of one language, in memory: {file name: content}, and why the PDFs are
    missing (None if they are there or were not asked for)."""
    tail = suffix(language)
    html = render_html(run, language)
    files: dict[str, bytes | str] = {f"report{tail}.html": html}
    text, figures = markdown.from_html(html, "{section}-{number}" + tail + ".svg")
    files[f"report{tail}.md"] = text
    files.update({f"figures/{name}": svg for name, svg in figures.items()})
    if not pdf:
        return files, None
    pdfs: dict[str, bytes | str] = {}
    try:
        progress(f"report{tail}.pdf")
        pdfs[f"report{tail}.pdf"] = html_to_pdf(html, run.directory)
        for name in ordered(run.experiments):
            progress(f"report-{name}{tail}.pdf")
            part = render_html(run, language, part=name)
            pdfs[f"report-{name}{tail}.pdf"] = html_to_pdf(part, run.directory)
    except PdfUnavailable as missing:
        return files, str(missing)
    return {**files, **pdfs}, None


def _progress(text: str) -> None:
    print(i18n._("rendering {file} …").format(file=text), file=sys.stderr, flush=True)


def run_render(args: argparse.Namespace, language: str) -> int:
    try:
        run_dir = args.run_dir if args.run_dir is not None else last_run(args.results)
        run = load_run(run_dir)
    except ResultFormatError as error:
        print(f"error: {terminal_text(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    out = args.out or run_dir
    began = time.perf_counter()
    files, no_pdf = report_files(run, language, not args.no_pdf, _progress)
    written = write(out, files)
    if written is None:
        return EXIT_WRITE
    say_written(out, written)
    if not run.complete:
        print(
            i18n._(
                "note: this run is {status}; the report marks what is missing. Finish it "
                "with: {command}"
            ).format(
                status=run.manifest["status"],
                command=shlex.join([*runner_command().split(), "--resume", str(run_dir)]),
            ),
            file=sys.stderr,
        )
    sys.stdout.flush()
    print(
        i18n._("rendered in {seconds:.1f} s").format(seconds=time.perf_counter() - began),
        file=sys.stderr,
    )
    if no_pdf:
        message = i18n._("{reason}. The report itself is complete: {html}")
        say_no_pdf(message, no_pdf, written, out)
        return EXIT_NO_PDF
    return EXIT_OK


def console_language(language: str) -> str:
    """The language of the lines printed: the outputs' own where the console can show it
    (a redirected Windows console may have a code page without Chinese), else English."""
    messages = i18n.translations(language)
    sample = messages.gettext("rendering {file} …") + messages.gettext("written: {path}")
    return language if console.can_show(sample) else i18n.SOURCE_LANGUAGE
