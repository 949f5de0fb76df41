"""`python -m experiments`: run the experiments and write a run folder.

A run folder is `results/<label>/<run-id>/` with `environment.json`, one file
per experiment and the manifest `run.json`. Each experiment's file is written
the moment it finishes, so an interrupted run (Ctrl-C, SIGTERM, a crash) keeps
what it finished and is marked incomplete; `--resume` runs what is missing
with the same profile, overrides and seed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import traceback
import typing
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import experiments
from experiments import environment as machine
from experiments.devices import Device, available_devices
from experiments.harness import (
    LoadMonitor,
    Progress,
    RunContext,
    Skipped,
    error_reason,
    numeric_settings,
)
from experiments.resultformat import (
    ENVIRONMENT_FILE,
    LAST_RUN_FILE,
    RUN_FILE,
    SCHEMA_VERSION,
    ResultFormatError,
    read_document,
    write_atomic,
    write_document,
)

PROFILES = ("quick", "default")


class UsageError(Exception):
    """Bad input from the user: shown as one line, nothing written."""


class Interrupted(Exception):
    """SIGTERM, turned into an exception so the run can be marked incomplete."""


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(text: str) -> str:
    """A label that names hardware, not a host: results are shared between classmates."""
    text = re.sub(r"\((r|tm|c)\)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(cpu|processor|\d+-core)\b", "", text, flags=re.IGNORECASE)
    text = re.sub(r"@.*$", "", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown-machine"


def default_label(environment: dict[str, Any]) -> str:
    if environment["gpus"]:
        return slug(environment["gpus"][0]["name"])
    return slug(environment["cpu"]["model"] or "unknown machine")


# --------------------------------------------------------------------------
# Configs: profile + overrides


def _parse_value(raw: str, kind: Any, where: str) -> Any:
    origin = typing.get_origin(kind)
    try:
        if kind is bool:
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return lowered in ("true", "1", "yes")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is str:
            return raw
        if origin is tuple:
            (item_kind, *_) = typing.get_args(kind)
            return tuple(item_kind(part) for part in raw.split(",") if part.strip())
    except ValueError:
        pass
    name = getattr(kind, "__name__", str(kind))
    raise UsageError(f"{where}: cannot read {raw!r} as {name}")


def build_configs(
    names: Sequence[str], profile: str, overrides: dict[str, str], seed: int | None
) -> dict[str, Any]:
    """Each experiment's frozen Config for this run, or UsageError naming the bad input."""
    configs: dict[str, Any] = {}
    for key in overrides:
        experiment = key.split(".", 1)[0]
        if experiment not in names:
            raise UsageError(f"--set {key}: experiment {experiment!r} is not part of this run")
    for name in names:
        module = experiments.load(name)
        config = module.PROFILES[profile]
        hints = typing.get_type_hints(type(config))
        changes: dict[str, Any] = {}
        for key, raw in overrides.items():
            experiment, _, field = key.partition(".")
            if experiment != name:
                continue
            if field not in hints:
                fields = ", ".join(f.name for f in dataclasses.fields(config))
                raise UsageError(f"--set {key}: {name} has no setting {field!r} (has: {fields})")
            changes[field] = _parse_value(raw, hints[field], f"--set {key}")
        if seed is not None and "seed" in hints:
            changes.setdefault("seed", seed)
        try:
            configs[name] = dataclasses.replace(config, **changes)
        except (ValueError, TypeError) as error:
            raise UsageError(f"{name}: {error}") from None
    return configs


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise UsageError(f"--set {item}: expected EXPERIMENT.SETTING=VALUE")
        overrides[key.strip()] = value.strip()
    return overrides


# --------------------------------------------------------------------------
# The run


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def _new_run_dir(results: Path, label: str) -> tuple[Path, str]:
    base = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (results / label).mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        run_id = base if attempt == 1 else f"{base}-{attempt}"
        try:
            (results / label / run_id).mkdir()
        except FileExistsError:
            continue
        return results / label / run_id, run_id
    raise UsageError(f"{results / label}: cannot find a free run id")


def _run_one(name: str, config: Any, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    module = experiments.load(name)
    monitor = LoadMonitor()
    started = utc_now()
    status, reason, data = "ok", None, None
    settings_at_start = numeric_settings()
    monitor.start()
    try:
        data = module.run(config, devices, ctx)
    except Skipped as skip:
        status, reason = "skipped", str(skip)
    except (KeyboardInterrupt, Interrupted):
        raise
    except Exception as error:
        traceback.print_exc()
        status, reason = "failed", error_reason(error)
    conditions = {**settings_at_start, **monitor.stop()}
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "experiment",
        "experiment": name,
        "title": module.TITLE,
        "status": status,
        "reason": reason,
        "config": {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
        },
        "seed": getattr(config, "seed", None),
        "devices": [d.name for d in devices],
        "device_names": {d.name: d.describe() for d in devices},
        "started_utc": started,
        "finished_utc": utc_now(),
        "conditions": conditions,
        "data": data,
    }


def execute(
    run_dir: Path,
    manifest: dict[str, Any],
    environment: dict[str, Any],
    configs: dict[str, Any],
    devices: list[Device],
    progress: Progress,
) -> dict[str, Any]:
    """Run every experiment the manifest does not mark ok; keep the manifest current."""
    ctx = RunContext(progress=progress, physical_cores=environment["cpu"]["physical_cores"] or 1)
    manifest["status"] = "running"
    manifest["finished_utc"] = None
    write_document(run_dir / RUN_FILE, manifest)
    todo = [name for name in configs if manifest["experiments"][name]["status"] != "ok"]
    try:
        for position, name in enumerate(todo, start=1):
            progress.done(
                f"[{position}/{len(todo)}] {name} on {', '.join(d.name for d in devices)}"
            )
            document = _run_one(name, configs[name], devices, ctx)
            file_name = f"{name}.json"
            write_document(run_dir / file_name, document)
            manifest["experiments"][name] = {
                "status": document["status"],
                "reason": document["reason"],
                "file": file_name,
            }
            write_document(run_dir / RUN_FILE, manifest)
            progress.done(
                f"      {name}: {document['status']}"
                + (f" ({document['reason']})" if document["reason"] else "")
            )
    except (KeyboardInterrupt, Interrupted):
        manifest["status"] = "incomplete"
        write_document(run_dir / RUN_FILE, manifest)
        raise
    machine.record_end(environment)
    write_document(run_dir / ENVIRONMENT_FILE, environment)
    manifest["status"] = "complete"
    manifest["finished_utc"] = utc_now()
    write_document(run_dir / RUN_FILE, manifest)
    return manifest


def _same_machine(stored: dict[str, Any], now: dict[str, Any]) -> bool:
    return bool(
        stored["cpu"]["model"] == now["cpu"]["model"]
        and [g["name"] for g in stored["gpus"]] == [g["name"] for g in now["gpus"]]
    )


def start_run(
    results: Path,
    *,
    profile: str,
    only: Sequence[str] | None = None,
    overrides: dict[str, str] | None = None,
    seed: int | None = None,
    label: str | None = None,
    command: Sequence[str] = ("python", "-m", "experiments"),
) -> tuple[Path, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Check the input, probe the machine and create a fresh run folder (never an old one)."""
    names = list(only) if only else list(experiments.EXPERIMENTS)
    overrides = dict(overrides or {})
    configs = build_configs(names, profile, overrides, seed)
    environment = machine.probe()
    label = slug(label) if label else default_label(environment)
    run_dir, run_id = _new_run_dir(results, label)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "run",
        "label": label,
        "run_id": run_id,
        "profile": profile,
        "seed": seed,
        "only": list(only or []),
        "overrides": overrides,
        "command": list(command),
        # The command the user typed, where a wrapper (the noxfile) says so.
        "invoked_as": os.environ.get("STUDY_INVOKED_AS"),
        "package_version": experiments.__version__,
        "git_commit": _git_commit(),
        "started_utc": utc_now(),
        "finished_utc": None,
        "status": "running",
        "experiments": {
            name: {"status": "pending", "reason": None, "file": None} for name in names
        },
    }
    write_document(run_dir / ENVIRONMENT_FILE, environment)
    write_document(run_dir / RUN_FILE, manifest)
    return run_dir, manifest, environment, configs


def _prepare_resume(run_dir: Path) -> tuple[Path, dict[str, Any], dict[str, Any], dict[str, Any]]:
    manifest = read_document(run_dir / RUN_FILE, "run")
    environment = read_document(run_dir / ENVIRONMENT_FILE, "environment")
    if manifest["status"] == "complete":
        raise UsageError(f"{run_dir}: this run is complete; nothing to resume")
    if not _same_machine(environment, machine.probe()):
        raise UsageError(f"{run_dir}: was started on another machine; resume it there")
    configs = build_configs(
        list(manifest["experiments"]), manifest["profile"], manifest["overrides"], manifest["seed"]
    )
    return run_dir, manifest, environment, configs


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m experiments",
        description="Run the study experiments on every device this machine has and write "
        "results/<label>/<run-id>/ (environment.json, run.json, one JSON file per experiment).",
        epilog="Examples:\n"
        "  python -m experiments --profile quick\n"
        "  python -m experiments --only cpu_vs_gpu --set cpu_vs_gpu.epochs=5000\n"
        "  python -m experiments --resume results/amd-epyc/20261122T051400Z\n"
        "  python -m experiments --list",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        help="'default' follows the notes (minutes); 'quick' is for tests and CI "
        "(seconds). Default: default",
    )
    parser.add_argument(
        "--only",
        type=lambda s: [n.strip() for n in s.split(",") if n.strip()],
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
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def list_experiments() -> str:
    lines = []
    for name in experiments.EXPERIMENTS:
        module = experiments.load(name)
        lines.append(f"{name}: {module.TITLE}")
        default = module.PROFILES["default"]
        quick = module.PROFILES["quick"]
        for field in dataclasses.fields(default):
            lines.append(
                f"  {field.name:<20} default={getattr(default, field.name)!r:<32} "
                f"quick={getattr(quick, field.name)!r}"
            )
    return "\n".join(lines)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    cli_args = list(argv) if argv is not None else sys.argv[1:]
    args = make_parser().parse_args(cli_args)
    if args.list:
        print(list_experiments())
        return 0
    try:
        if args.only:
            unknown = [n for n in args.only if n not in experiments.EXPERIMENTS]
            if unknown:
                raise UsageError(
                    f"--only: unknown experiment(s) {', '.join(unknown)} "
                    f"(known: {', '.join(experiments.EXPERIMENTS)})"
                )
        if args.resume:
            given = [
                flag
                for flag, value in (
                    ("--profile", args.profile),
                    ("--only", args.only),
                    ("--set", args.set),
                    ("--seed", args.seed),
                    ("--label", args.label),
                )
                if value
            ]
            if given:
                raise UsageError(
                    f"--resume runs with the run's own settings; drop {', '.join(given)}"
                )
            run_dir, manifest, environment, configs = _prepare_resume(args.resume)
        else:
            run_dir, manifest, environment, configs = start_run(
                args.results,
                profile=args.profile or "default",
                only=args.only,
                overrides=parse_overrides(args.set),
                seed=args.seed,
                label=args.label,
                command=["python", "-m", "experiments", *cli_args],
            )
    except (UsageError, ResultFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    progress = Progress(enabled=not args.quiet)
    progress.done(f"run folder: {run_dir}")
    devices = available_devices(environment["cpu"]["model"] or "CPU")
    if len(devices) == 1:
        progress.done("no GPU found: measuring the CPU only (the report says so)")
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        execute(run_dir, manifest, environment, configs, devices, progress)
    except (KeyboardInterrupt, Interrupted):
        print(
            f"\ninterrupted: finished experiments are kept in {run_dir}; "
            f"complete it with: python -m experiments --resume {run_dir}",
            file=sys.stderr,
        )
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    results_root = run_dir.parent.parent
    write_atomic(results_root / LAST_RUN_FILE, f"{run_dir}\n")
    print(f"results: {run_dir}")
    for path in sorted(run_dir.glob("*.json")):
        print(f"  {path}")
    return 0
