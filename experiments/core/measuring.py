"""One experiment measured and made into its result document, checked before it is written.

The runner (runner.py) decides which experiments run and keeps the run folder; this module
measures one: the numeric settings at start and at the end of its timings, the load and the
machine's drift around it (its checkpoints are the run's between-repeats hook), the thread
count and the random generators put back after it, and the document checked against the
experiment's declaration (a mismatch fails that experiment, naming the field).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import random
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from experiments.contract import declaration
from experiments.contract.format import (
    SCHEMA_VERSION,
    ResultFormatError,
    dumps,
    shareable_path,
    validate,
)
from experiments.core import drift
from experiments.core.devices import Device
from experiments.core.harness import (
    LoadMonitor,
    RunContext,
    Skipped,
    error_reason,
    numeric_settings,
)


class Interrupted(Exception):
    """SIGTERM, turned into an exception so the run can be marked incomplete."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def config_record(config: Any) -> dict[str, Any]:
    """A Config as its result file stores it: tuples as lists, paths with ~ for home."""
    record = {}
    for key, value in dataclasses.asdict(config).items():
        if isinstance(value, tuple):
            value = list(value)
        elif key.endswith("_dir") and value:
            value = shareable_path(value)
        record[key] = value
    return record


@contextlib.contextmanager
def own_state() -> Iterator[dict[str, Any]]:
    """An experiment's own numeric state, kept to itself: it sets its thread count and seeds
    its generators; on leaving, the dict yielded holds the numeric settings its timings ran
    under, and the thread count and every random generator's state are put back, so the next
    experiment starts from what this one found. (torch lets the inter-op thread count be set
    once per process, so no experiment changes it.)"""
    threads = torch.get_num_threads()
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    gpus = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    measured: dict[str, Any] = {}
    with torch.random.fork_rng(devices=gpus):
        try:
            yield measured
        finally:
            measured.update(numeric_settings())
            torch.set_num_threads(threads)
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def result_of(name: str, config: Any, devices: list[Device], ctx: RunContext) -> dict[str, Any]:
    """The experiment's document as it will be stored."""
    return storable(measured_document(name, config, devices, ctx))


def measured_document(
    name: str, config: Any, devices: list[Device], ctx: RunContext
) -> dict[str, Any]:
    """One experiment measured in this process: its result document, `ok`, `skipped` or
    `failed` with the reason, and the conditions it ran under."""
    measure = declaration.get(name).load_measure()
    monitor = LoadMonitor()
    started = utc_now()
    status, reason, data = "ok", None, None
    settings_at_start = numeric_settings()
    monitor.start()
    with drift.probing() as reference, own_state() as measured:
        hooks = dataclasses.replace(ctx.hooks, between_repeats=reference.checkpoint)
        try:
            data = measure.run(config, devices, dataclasses.replace(ctx, hooks=hooks))
        except Skipped as skip:
            status, reason = "skipped", str(skip)
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as error:
            traceback.print_exc()
            status, reason = "failed", error_reason(error)
    conditions = {
        **settings_at_start,
        "measured": measured,
        **monitor.stop(),
        "reference": reference.record(),
    }
    if ctx.hooks.slowdown != 1.0:
        conditions["planted_slowdown"] = ctx.hooks.slowdown
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "experiment",
        "experiment": name,
        "status": status,
        "reason": reason,
        "config": config_record(config),
        "seed": getattr(config, "seed", None),
        "devices": [d.name for d in devices],
        "started_utc": started,
        "finished_utc": utc_now(),
        "conditions": conditions,
        "data": data,
    }


def storable(document: dict[str, Any]) -> dict[str, Any]:
    """An experiment's result as it can be stored and read back: one that cannot (a NaN that
    escaped an experiment, data that does not match the experiment's declared shape) is
    recorded as that experiment's failure, naming the field, not as an `ok` that the reader
    would then refuse along with the whole run."""
    try:
        text = dumps(document)
    except ValueError as error:
        reason = f"result not storable: {error_reason(error)}"
        return {**document, "status": "failed", "reason": reason, "data": None}
    try:
        validate(json.loads(text), Path(f"{document['experiment']}.json"), "experiment")
    except ResultFormatError as error:
        reason = f"result does not match its declaration: {error.detail}"
        return {**document, "status": "failed", "reason": reason, "data": None}
    return document
