"""`python -m report render [RUN_DIR]` and `python -m report diff RUN RUN …`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from experiments.contract.format import LAST_RUN_FILE, ResultFormatError, write_atomic
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
    compare = commands.add_parser(
        "diff",
        help="compare runs from different machines",
        description="Compare run folders (or single experiment files): the machines' hardware and "
        "software differences first, then per timing the ratio to the baseline, its 95 % "
        "interval and a verdict that needs both a Mann–Whitney U test on the raw repeats and a "
        "minimum ratio. Prints a table and writes diff.md, diff.html and diff.pdf.",
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
        help="significance level of the rank test (default: %(default)s)",
    )
    compare.add_argument(
        "--min-ratio",
        type=float,
        default=1.05,
        help="smallest ratio of medians that counts (default: %(default)s)",
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
        help="folder for diff.md, diff.html, diff.pdf (default: %(default)s)",
    )
    compare.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    return parser


def run_diff(args: argparse.Namespace) -> int:
    from report.diff import DiffRefused, diff, load_inputs
    from report.diff_render import html, markdown, terminal

    try:
        result = diff(
            load_inputs(args.runs),
            baseline=args.baseline,
            alpha=args.alpha,
            min_ratio=args.min_ratio,
            force=args.force,
        )
    except (ResultFormatError, DiffRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(terminal(result))
    page = html(result)
    pdf = None if args.no_pdf else html_to_pdf(page, args.out)
    write_atomic(args.out / "diff.md", markdown(result))
    write_atomic(args.out / "diff.html", page)
    written = ["diff.md", "diff.html"]
    if pdf is not None:
        write_atomic(args.out / "diff.pdf", pdf)
        written.append("diff.pdf")
    print("\n" + "\n".join(f"written: {args.out / name}" for name in written))
    if args.fail_on_regression and result.regressions:
        print(
            f"{len(result.regressions)} significant slowdown(s) against the baseline",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.command == "diff":
        return run_diff(args)
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
