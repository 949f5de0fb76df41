"""The tool's command line: `gpu-study` (installed) or `python -m report`, with subcommands.

- `render [RUN_DIR]`: a run folder made into the report (no torch needed);
- `diff RUN RUN …`: runs compared;
- `class PATH …`: every run folder under the paths, many machines in one page;
- `run …` / `report …`: the experiments (with torch), then for `report` the render.

Exit status of render, diff and class: 0 everything written; 1 `diff --fail-on-regression` found
a significant slowdown; 2 bad input (nothing written); 3 written without the PDFs, because
this machine has no PDF backend (the line printed says how to install one); 4 the outputs
could not be written (the line names the path; nothing new was written). `run` and
`report` exit with the runner's status where the run did not complete (`run --help`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from experiments.contract import console
from report.cli.classview import add_class_parser, run_class
from report.cli.diff import add_diff_parser, run_diff
from report.cli.options import program_name
from report.cli.render import add_render_parser, console_language, run_render
from report.cli.run import add_run_parsers, main_run
from report.words import i18n

RUNNER_COMMANDS = ("run", "report")


def make_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or program_name(),
        description="Run the study's experiments and write them up (report), render a run "
        "folder into report.html, report.md and PDFs (render), compare runs from different "
        "machines (diff), or put a whole class's runs in one page (class).",
        epilog="Exit status of render, diff and class: 0 done; 1 diff found a slowdown (with "
        "--fail-on-regression); 2 bad input, nothing written; 3 written without PDFs (no PDF "
        "backend: the message says how to install one); 4 outputs could not be written, "
        "nothing new written. run and report: the runner's status (run --help).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_run_parsers(commands)
    add_render_parser(commands)
    add_diff_parser(commands)
    add_class_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    console.tolerant_streams()
    args_list = list(sys.argv[1:] if argv is None else argv)
    prog = program_name()
    if args_list and args_list[0] in RUNNER_COMMANDS:
        return main_run(args_list[0], args_list[1:], prog, lambda rest: main(["render", *rest]))
    args = make_parser(prog).parse_args(args_list)
    language = i18n.resolve(args.lang)
    # the outputs are rendered in `language` whatever the console: render_html sets its own
    with i18n.using(console_language(language)):
        if args.command == "diff":
            return run_diff(args, language)
        if args.command == "class":
            return run_class(args, language)
        return run_render(args, language)
