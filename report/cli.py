"""`python -m report render [RUN_DIR]`: HTML and PDF from a run folder."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from experiments.resultformat import LAST_RUN_FILE, ResultFormatError, write_atomic
from report.load import load_run
from report.render import html_to_pdf, render_html


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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m report",
        description="Render results into a self-contained report.html and an A4 report.pdf.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render",
        help="render one run folder",
        description="Validate every file of a run folder, then write report.html and report.pdf "
        "(into the run folder unless --out says otherwise). Nothing is written if a file is bad.",
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
    render.add_argument("--out", type=Path, help="folder for report.html / report.pdf")
    render.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        run_dir = args.run_dir if args.run_dir is not None else last_run(args.results)
        run = load_run(run_dir)
    except ResultFormatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = args.out or run_dir
    began = time.perf_counter()
    html = render_html(run)
    pdf = None if args.no_pdf else html_to_pdf(html, out)
    write_atomic(out / "report.html", html)
    print(f"report: {out / 'report.html'}")
    if pdf is not None:
        write_atomic(out / "report.pdf", pdf)
        print(f"report: {out / 'report.pdf'}")
    if not run.complete:
        print(
            f"note: this run is {run.manifest['status']}; the report marks what is missing. "
            f"Finish it with: python -m experiments --resume {run_dir}",
            file=sys.stderr,
        )
    sys.stdout.flush()
    print(f"rendered in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0
