"""The timings again, in fresh processes: how much a timing moves from one process to another.

Repeats inside one process share its address layout, allocator state, thread placement and
moment; two runs of the same machine differ by all of these (the diff saw one timing 0.64×
another run's, on an idle machine, while every reference workload agreed). So, after every
experiment has been measured, the runner starts `workers` fresh processes one after the
other (pyperf's scheme: a worker per set of values, its own warm-up, the parent collecting),
each running every experiment that declares a `replica` (a shorter configuration of the same
timed cases), in an order that turns with each round so that no experiment always comes
first. Each worker's values of each timing are appended to the experiment's result file
under `processes`; the diff compares the per-process medians (report/diff).

`python -m experiments.core.replicas SPEC OUT` is the worker; `run_replicas` the parent.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.contract import declaration
from experiments.contract.format import read_document, write_document
from experiments.core.devices import available_devices
from experiments.core.harness import Hooks, Progress, RunContext, error_reason

WORKER = "experiments.core.replicas"
# A worker that takes longer than this many times its experiments' first measurement (and
# at least MIN_TIMEOUT_S) is stopped; its round is recorded as failed.
TIMEOUT_FACTOR = 4.0
MIN_TIMEOUT_S = 120.0


def replica_config(name: str, config: Any) -> Any | None:
    """The configuration a worker runs for this experiment (None: measured in one process)."""
    make = declaration.get(name).replica
    return make(config) if make is not None else None


def config_from_record(config_class: type[Any], record: dict[str, Any]) -> Any:
    """A Config back from its JSON form (tuples were stored as lists)."""
    default = config_class()
    values = {
        field.name: tuple(record[field.name])
        if isinstance(getattr(default, field.name), tuple)
        else record[field.name]
        for field in dataclasses.fields(config_class)
        if field.name in record
    }
    return config_class(**values)


def order(names: Sequence[str], round_number: int) -> list[str]:
    """The experiments of a round, turned by one place each round."""
    if not names:
        return []
    shift = (round_number - 1) % len(names)
    return [*names[shift:], *names[:shift]]


def _worker(spec_path: Path, out_path: Path) -> int:
    """Measure each experiment of the spec once more, in this fresh process."""
    from experiments.core.measuring import own_state

    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    devices = available_devices(spec["cpu_model"])
    ctx = RunContext(
        Progress(enabled=False),
        spec["physical_cores"],
        Hooks(slowdown=spec["slowdown"]),
        timings_only=True,
    )
    found: dict[str, Any] = {}
    for item in spec["experiments"]:
        declared = declaration.get(item["name"])
        config = config_from_record(declared.config, item["config"])
        began = time.perf_counter()
        try:
            with own_state():
                data = declared.load_measure().run(config, devices, ctx)
            values = {m.key: list(m.values) for m in declared.metrics(data)}
            found[item["name"]] = {"values": values, "seconds": time.perf_counter() - began}
        except Exception as error:  # one experiment's failure leaves the others' values
            traceback.print_exc()
            found[item["name"]] = {"values": {}, "error": error_reason(error)}
    out_path.write_text(json.dumps({"experiments": found}), encoding="utf-8")
    return 0


def run_replicas(
    run_dir: Path,
    names: Sequence[str],
    configs: dict[str, Any],
    environment: dict[str, Any],
    workers: int,
    ctx: RunContext,
    started: float,
    profile: str,
) -> None:
    """Up to `workers` rounds, each a fresh process measuring every named experiment once
    more (less the last rounds an experiment sits out in this profile,
    `Declaration.worker_rounds`); each round's values appended to the experiments' files as
    soon as it ends. An experiment that already holds its rounds' processes (a resumed run)
    is not measured again."""
    replicas = {
        name: config
        for name in names
        if (config := replica_config(name, configs[name])) is not None
    }
    rounds = {name: declaration.get(name).worker_rounds(profile, workers) for name in replicas}
    for round_number in range(1, workers + 1):
        due = [
            n
            for n in replicas
            if round_number <= rounds[n] and len(_processes(run_dir, n)) < round_number
        ]
        if not due:
            continue
        ctx.progress.done(
            f"      timings again in a fresh process: round {round_number}/{workers} "
            f"({', '.join(order(due, round_number))})"
        )
        spec = {
            "cpu_model": environment["cpu"]["model"] or "CPU",
            "physical_cores": ctx.physical_cores,
            "slowdown": ctx.hooks.slowdown,
            "experiments": [
                {"name": name, "config": dataclasses.asdict(replicas[name])}
                for name in order(due, round_number)
            ],
        }
        outcome = _launch(run_dir, spec, _timeout(run_dir, due))
        at_s = round(time.perf_counter() - started, 3)
        for name in due:
            result = outcome.get(name, {"values": {}, "error": "the worker gave no result"})
            entry: dict[str, Any] = {
                "round": round_number,
                "at_s": at_s,
                "values": result["values"],
            }
            if result.get("error"):
                entry["error"] = result["error"]
            path = run_dir / f"{name}.json"
            document = read_document(path, "experiment")
            document["processes"] = [*document.get("processes", []), entry]
            write_document(path, document)


def _processes(run_dir: Path, name: str) -> list[Any]:
    document = read_document(run_dir / f"{name}.json", "experiment")
    found: list[Any] = document.get("processes", [])
    return found


def _timeout(run_dir: Path, names: Sequence[str]) -> float:
    """TIMEOUT_FACTOR times what the experiments took in the run itself."""
    import datetime as dt

    total = 0.0
    for name in names:
        document = read_document(run_dir / f"{name}.json", "experiment")
        began = dt.datetime.fromisoformat(document["started_utc"].replace("Z", "+00:00"))
        ended = dt.datetime.fromisoformat(document["finished_utc"].replace("Z", "+00:00"))
        total += (ended - began).total_seconds()
    return max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * total)


def _launch(run_dir: Path, spec: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """One worker process; its results by experiment ({} where it failed as a whole)."""
    spec_path = run_dir / ".replica-spec.json"
    out_path = run_dir / ".replica-out.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    out_path.unlink(missing_ok=True)
    try:
        finished = subprocess.run(
            [sys.executable, "-m", WORKER, str(spec_path), str(out_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout_s,
            check=False,
        )
        if finished.returncode != 0 or not out_path.exists():
            lines = finished.stderr.decode("utf-8", "replace").strip().splitlines()
            error = lines[-1] if lines else f"exit status {finished.returncode}"
            return {s["name"]: {"values": {}, "error": error} for s in spec["experiments"]}
        found: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))["experiments"]
        return found
    except subprocess.TimeoutExpired:
        error = f"the worker took longer than {timeout_s:.0f} s"
        return {s["name"]: {"values": {}, "error": error} for s in spec["experiments"]}
    finally:
        spec_path.unlink(missing_ok=True)
        out_path.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(_worker(Path(sys.argv[1]), Path(sys.argv[2])))
