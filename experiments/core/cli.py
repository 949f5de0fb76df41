"""`python -m experiments`: the command line of the runner.

Exit status: 0 the run is complete; 2 nothing was run (bad input, a run folder another
process is writing, a run that cannot be resumed), one line says why; 4 the run stopped
because a file could not be written (full disk, read-only folder): it is marked incomplete
with the reason and `--resume` finishes it; 130 interrupted by Ctrl-C, 143 by SIGTERM,
149 by Ctrl-Break on Windows (finished experiments kept, `--resume` finishes it).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from experiments.contract import console, declaration
from experiments.contract.atomic import write_atomic
from experiments.contract.declaration import PROFILE_NAMES
from experiments.contract.format import LAST_RUN_FILE, ResultFormatError
from experiments.contract.settings import allowed
from experiments.core.devices import Device, available_devices
from experiments.core.harness import Hooks, Progress, error_reason
from experiments.core.lock import RunFolderBusy, owning
from experiments.core.measuring import Interrupted
from experiments.core.runner import (
    MAX_WORKERS,
    WORKERS,
    RunStopped,
    UsageError,
    execute,
    parse_overrides,
    planted_slowdown,
    prepare_resume,
    start_run,
)

# The command this runner was started by, as the user typed it: the tool's `gpu-study run`
# sets it (report/cli/run.py), so that the usage line and the advice to resume name it.
PROG = os.environ.get("STUDY_RUNNER_PROG") or "python -m experiments"

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_STOPPED = 4
EXIT_SIGINT = 130


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the study experiments on every device this machine has and write "
        "results/<label>/<run-id>/ (environment.json, run.json, one JSON file per experiment).",
        epilog="Examples:\n"
        f"  {PROG} --profile quick\n"
        f"  {PROG} --only cpu_vs_gpu --set cpu_vs_gpu.epochs=5000\n"
        f"  {PROG} --resume results/amd-epyc/20261122T051400Z\n"
        f"  {PROG} --list",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--profile",
        choices=PROFILE_NAMES,
        help="'default' follows the notes (minutes); 'quick' checks that everything works "
        "(under a minute); 'smoke' is the test suite's (seconds). Default: default",
    )
    parser.add_argument(
        "--only",
        type=lambda s: [n.strip() for n in s.split(",")],
        metavar="NAME[,NAME]",
        help="run only these experiments (see --list)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="EXPERIMENT.SETTING=VALUE",
        help="override one setting of the profile, e.g. cpu_vs_gpu.repeats=10; "
        "repeatable; tuples as comma lists",
    )
    parser.add_argument(
        "--seed", type=int, help="seed for every experiment (default: each config's)"
    )
    parser.add_argument(
        "--label", help="folder name for this machine (default: a slug of the GPU or CPU model)"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        help="where run folders go (default: %(default)s)",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="finish an interrupted run in place, with its own profile and settings",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the experiments and their settings per profile, then exit",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="after the run, measure the timings again in N fresh processes, one after the "
        "other, so that comparisons see how much each timing moves between processes "
        f"(default: {', '.join(f'{p} {n}' for p, n in WORKERS.items())}; 0: none)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def list_experiments() -> str:
    lines = []
    for name, declared in declaration.declarations().items():
        lines.append(f"{name}: {declared.title}")
        profiles = {p: declared.profiles[p] for p in ("default", "quick", "smoke")}
        ranges = allowed(declared.config)
        for field in dataclasses.fields(declared.config):
            values = "  ".join(
                f"{p}={getattr(config, field.name)!r}" for p, config in profiles.items()
            )
            rule = f"  ({ranges[field.name]})" if field.name in ranges else ""
            lines.append(f"  {field.name:<20} {values}{rule}")
    return "\n".join(lines)


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _check_resume_flags(args: argparse.Namespace) -> None:
    given = [
        flag
        for flag, value in (
            ("--profile", args.profile),
            ("--only", args.only),
            ("--set", args.set),
            ("--seed", args.seed),
            ("--label", args.label),
            ("--workers", args.workers is not None),
        )
        if value
    ]
    if given:
        raise UsageError(f"--resume runs with the run's own settings; drop {', '.join(given)}")


def main(argv: Sequence[str] | None = None, extra_devices: Sequence[Device] = ()) -> int:
    """The runner's command line. `extra_devices` join the machine's own (the tests add a
    stand-in GPU this way; it is labelled simulated in every result it produces)."""
    console.tolerant_streams()
    cli_args = list(argv) if argv is not None else sys.argv[1:]
    args = make_parser().parse_args(cli_args)
    if args.list:
        print(list_experiments())
        return 0
    try:
        if args.only is not None:
            if not all(args.only):
                raise UsageError(f"--only {','.join(args.only)}: an empty experiment name")
            unknown = [n for n in args.only if n not in declaration.declarations()]
            if unknown:
                raise UsageError(
                    f"--only: unknown experiment(s) {', '.join(unknown)} "
                    f"(known: {', '.join(declaration.names())})"
                )
        slowdown = planted_slowdown(os.environ)
        if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
            raise UsageError(f"--workers {args.workers}: must be 0 to {MAX_WORKERS}")
        if args.resume:
            _check_resume_flags(args)
            run_dir, manifest, environment, configs = prepare_resume(args.resume)
        else:
            run_dir, manifest, environment, configs = start_run(
                args.results,
                profile=args.profile or "default",
                only=args.only,
                overrides=parse_overrides(args.set),
                seed=args.seed,
                label=args.label,
                command=["python", "-m", "experiments", *cli_args],
                workers=args.workers,
            )
    except (UsageError, ResultFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RunStopped as stopped:
        print(f"error: nothing run: {stopped}", file=sys.stderr)
        return EXIT_STOPPED
    try:
        with owning(run_dir):
            hooks = Hooks(slowdown=slowdown)
            return _run(run_dir, manifest, environment, configs, args, extra_devices, hooks)
    except RunFolderBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return EXIT_USAGE


def _run(
    run_dir: Path,
    manifest: dict[str, Any],
    environment: dict[str, Any],
    configs: dict[str, Any],
    args: argparse.Namespace,
    extra_devices: Sequence[Device],
    hooks: Hooks,
) -> int:
    progress = Progress(enabled=not args.quiet)
    progress.done(f"run folder: {run_dir}")
    devices = [*available_devices(environment["cpu"]["model"] or "CPU"), *extra_devices]
    if len(devices) == 1:
        progress.done("no GPU found: measuring the CPU only (the report says so)")
    # SIGTERM (kill, a scheduler) and, on Windows, SIGBREAK (Ctrl-Break, a console window
    # closed) end a run like Ctrl-C does: marked incomplete, finished experiments kept
    stop_signals = [signal.SIGTERM]
    if hasattr(signal, "SIGBREAK"):
        stop_signals.append(signal.SIGBREAK)
    for signum in stop_signals:
        signal.signal(signum, _on_stop_signal)
    resume = f"complete it with: {PROG} --resume {run_dir}"
    try:
        execute(run_dir, manifest, environment, configs, devices, progress, hooks)
    except (KeyboardInterrupt, Interrupted) as stop:
        print(
            f"\ninterrupted: finished experiments are kept in {run_dir}; {resume}", file=sys.stderr
        )
        return 128 + stop.signum if isinstance(stop, Interrupted) else EXIT_SIGINT
    except RunStopped as stopped:
        print(
            f"error: the run stopped: {stopped}; finished experiments are kept; {resume}",
            file=sys.stderr,
        )
        return EXIT_STOPPED
    except Exception as error:  # any other stop: execute() has marked the run incomplete
        print(
            f"error: the run stopped: {error_reason(error)}; finished experiments are kept; "
            f"{resume}",
            file=sys.stderr,
        )
        return EXIT_STOPPED
    finally:
        for signum in stop_signals:
            signal.signal(signum, signal.SIG_DFL)
    results_root = run_dir.parent.parent
    with contextlib.suppress(OSError):  # only a convenience for `render` without arguments
        write_atomic(results_root / LAST_RUN_FILE, f"{run_dir}\n")
    print(f"results: {run_dir}")
    for path in sorted(run_dir.glob("*.json")):
        print(f"  {path}")
    return EXIT_OK
