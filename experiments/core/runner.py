"""Run the experiments of a profile into a run folder, or finish an interrupted one.

A run folder is `results/<label>/<run-id>/` with `environment.json`, one file
per experiment and the manifest `run.json`. Each experiment's file is written
the moment it finishes, so an interrupted run (Ctrl-C, SIGTERM, a crash) keeps
what it finished and is marked incomplete; a resume runs what is missing with
the same profile, overrides and seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import re
import shutil
import subprocess
import time
import typing
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import experiments
from experiments.contract import declaration
from experiments.contract.format import (
    ENVIRONMENT_FILE,
    RUN_FILE,
    SCHEMA_VERSION,
    read_document,
    shareable_path,
    write_document,
)
from experiments.core import measuring, probe, replicas
from experiments.core.devices import Device
from experiments.core.harness import (
    Hooks,
    Progress,
    RunContext,
    error_reason,
)
from experiments.core.measuring import Interrupted, utc_now


class UsageError(Exception):
    """Bad input from the user: shown as one line, nothing written."""


# Fresh worker processes that measure every timing again after the run, by profile
# (experiments.core.replicas; --workers overrides): the diff's rule for timings from
# several processes wants at least MIN_PROCESSES a side (the run's own counts). default: 3,
# which keeps its run within a minute of what it took without them; quick: 5, the count at
# which a planted 1.25x clears the rule on a 5 % spread between processes (this project's
# VM: 4-6 %) and which the comparisons benchmark's confirmation set was made with; smoke:
# one, to walk the path.
WORKERS = {"default": 3, "quick": 5, "smoke": 1}
MAX_WORKERS = 32

# A factor by which every timed region is stretched: only for checking that the diff finds a
# known slowdown (benchmarks/comparisons.py); a result measured with it says so.
PLANTED_SLOWDOWN_ENV = "STUDY_PLANTED_SLOWDOWN"


def planted_slowdown(environ: Mapping[str, str]) -> float:
    """The run's planted slowdown from the environment (1 when unset)."""
    raw = environ.get(PLANTED_SLOWDOWN_ENV, "")
    if not raw:
        return 1.0
    try:
        factor = float(raw)
    except ValueError:
        factor = math.nan
    if not 1.0 <= factor <= 10.0:
        raise UsageError(f"{PLANTED_SLOWDOWN_ENV} must be a number in [1, 10], got {raw!r}")
    return factor


class RunStopped(Exception):
    """The run could not go on (a full disk, a folder that became read-only): the run is
    marked incomplete with this reason, and --resume finishes it once the cause is gone."""


# Names Windows reserves for devices: not usable as a folder name on a classmate's laptop.
WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10))}
WINDOWS_RESERVED |= {f"lpt{i}" for i in range(10)}
MAX_LABEL = 64


def slug(text: str) -> str:
    """A folder name that names hardware, not a host (results are shared between classmates):
    letters and digits of any script kept (实验室电脑 stays 实验室电脑), full-width forms made
    plain, everything else one hyphen; safe as a folder name on Windows, macOS and Linux."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\((r|tm|c)\)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(cpu|processor|\d+-core)\b", "", text, flags=re.IGNORECASE)
    text = re.sub(r"@.*$", "", text)
    name = re.sub(r"[\W_]+", "-", text.lower()).strip("-")[:MAX_LABEL].strip("-")
    if name in WINDOWS_RESERVED:
        name += "-machine"
    return name or "unknown-machine"


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
        config = declaration.get(name).profiles[profile]
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
    root = Path(__file__).resolve().parent.parent.parent

    def git(*args: str) -> str:
        # git writes UTF-8 whatever the Windows code page
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, encoding="utf-8", errors="replace"
        )
        done.check_returncode()
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def _shareable_command(command: str) -> str:
    """A command line with the home directory written as ~ in every word."""
    return " ".join(shareable_path(word) for word in command.split(" "))


def _new_run_dir(results: Path, label: str) -> tuple[Path, str]:
    base = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for folder in (results, results / label):
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{folder}: is a file, not a folder for results")
    try:
        (results / label).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{results / label}: cannot create ({error.strerror})") from None
    for attempt in range(1, 1000):
        run_id = base if attempt == 1 else f"{base}-{attempt}"
        try:
            (results / label / run_id).mkdir()
        except FileExistsError:
            continue
        return results / label / run_id, run_id
    raise UsageError(f"{results / label}: cannot find a free run id")


def execute(
    run_dir: Path,
    manifest: dict[str, Any],
    environment: dict[str, Any],
    configs: dict[str, Any],
    devices: list[Device],
    progress: Progress,
    hooks: Hooks | None = None,
) -> dict[str, Any]:
    """Run every experiment the manifest does not mark ok; keep the manifest current;
    `hooks` carries the planted slowdown of the diff's own check (none otherwise).

    Whatever stops the run (Ctrl-C, SIGTERM, a write that fails, any other error) leaves
    run.json marked incomplete with the reason, never "running", and every experiment
    finished so far kept; an OSError becomes RunStopped with a one-line reason."""
    ctx = RunContext(
        progress=progress,
        physical_cores=environment["cpu"]["physical_cores"] or 1,
        hooks=hooks or Hooks(),
    )
    started = time.perf_counter()
    manifest["status"] = "running"
    manifest["finished_utc"] = None
    manifest.pop("reason", None)
    todo = [name for name in configs if manifest["experiments"][name]["status"] != "ok"]
    try:
        write_document(run_dir / RUN_FILE, manifest)
        for position, name in enumerate(todo, start=1):
            progress.done(
                f"[{position}/{len(todo)}] {name} on {', '.join(d.name for d in devices)}"
            )
            document = measuring.result_of(name, configs[name], devices, ctx)
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
        done = [n for n in configs if manifest["experiments"][n]["status"] == "ok"]
        replicas.run_replicas(
            run_dir,
            done,
            configs,
            environment,
            manifest.get("workers", 0),
            ctx,
            started,
            manifest["profile"],
        )
        probe.record_end(environment)
        write_document(run_dir / ENVIRONMENT_FILE, environment)
        manifest["status"] = "complete"
        manifest["finished_utc"] = utc_now()
        write_document(run_dir / RUN_FILE, manifest)
    except (KeyboardInterrupt, Interrupted) as stop:
        _mark_incomplete(
            run_dir,
            manifest,
            "interrupted" if isinstance(stop, KeyboardInterrupt) else f"stopped by {stop}",
        )
        raise
    except OSError as error:
        reason = f"{error.filename or run_dir}: {error.strerror or error}"
        _mark_incomplete(run_dir, manifest, reason)
        raise RunStopped(reason) from None
    except BaseException as error:
        _mark_incomplete(run_dir, manifest, error_reason(error))
        raise
    return manifest


def _mark_incomplete(run_dir: Path, manifest: dict[str, Any], reason: str) -> None:
    """Best effort: where even run.json cannot be written, the caller's message says why."""
    manifest["status"] = "incomplete"
    manifest["reason"] = reason
    with contextlib.suppress(OSError):
        write_document(run_dir / RUN_FILE, manifest)


def _same_machine(stored: dict[str, Any], now: dict[str, Any]) -> bool:
    return bool(
        stored["cpu"]["model"] == now["cpu"]["model"]
        and [g["name"] for g in stored["gpus"]] == [g["name"] for g in now["gpus"]]
    )


RunSetup = tuple[Path, dict[str, Any], dict[str, Any], dict[str, Any]]


def start_run(
    results: Path,
    *,
    profile: str,
    only: Sequence[str] | None = None,
    overrides: dict[str, str] | None = None,
    seed: int | None = None,
    label: str | None = None,
    command: Sequence[str] = ("python", "-m", "experiments"),
    workers: int | None = None,
) -> RunSetup:
    """Check the input, probe the machine and create a fresh run folder (never an old one)."""
    names = list(only) if only else declaration.names()
    overrides = dict(overrides or {})
    configs = build_configs(names, profile, overrides, seed)
    environment = probe.probe()
    label = slug(label) if label else default_label(environment)
    run_dir, run_id = _new_run_dir(results, label)
    invoked_as = os.environ.get("STUDY_INVOKED_AS")
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "run",
        "label": label,
        "run_id": run_id,
        "profile": profile,
        "seed": seed,
        "only": list(only or []),
        "overrides": {k: shareable_path(v) for k, v in overrides.items()},
        "command": [shareable_path(part) for part in command],
        # The command the user typed, where a wrapper (the noxfile) says so.
        "invoked_as": _shareable_command(invoked_as) if invoked_as else None,
        "package_version": experiments.__version__,
        "git_commit": _git_commit(),
        "started_utc": utc_now(),
        "finished_utc": None,
        "status": "running",
        "experiments": {
            name: {"status": "pending", "reason": None, "file": None} for name in names
        },
        "workers": WORKERS[profile] if workers is None else workers,
    }
    try:
        write_document(run_dir / ENVIRONMENT_FILE, environment)
        write_document(run_dir / RUN_FILE, manifest)
    except OSError as error:  # nothing of this run is worth keeping yet
        shutil.rmtree(run_dir, ignore_errors=True)
        raise RunStopped(f"{error.filename or run_dir}: {error.strerror or error}") from None
    return run_dir, manifest, environment, configs


def prepare_resume(run_dir: Path) -> RunSetup:
    """The run folder's own manifest, machine and settings, checked before anything runs:
    the same checks as a new run's, so a run.json that names an unknown profile or
    experiment, or settings no longer allowed, stops with one line."""
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: not a run folder (no such directory)")
    manifest = read_document(run_dir / RUN_FILE, "run")
    environment = read_document(run_dir / ENVIRONMENT_FILE, "environment")
    if manifest["status"] == "complete":
        raise UsageError(f"{run_dir}: this run is complete; nothing to resume")
    if manifest["profile"] not in declaration.PROFILE_NAMES:
        raise UsageError(
            f"{run_dir / RUN_FILE}: profile {manifest['profile']!r} is not known to this tool"
        )
    unknown = [n for n in manifest["experiments"] if n not in declaration.declarations()]
    if unknown:
        raise UsageError(
            f"{run_dir / RUN_FILE}: experiment(s) {', '.join(unknown)} not known to this tool"
        )
    if not _same_machine(environment, probe.probe()):
        raise UsageError(f"{run_dir}: was started on another machine; resume it there")
    configs = build_configs(
        list(manifest["experiments"]), manifest["profile"], manifest["overrides"], manifest["seed"]
    )
    return run_dir, manifest, environment, configs
