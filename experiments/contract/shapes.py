"""The shape language of result files, and the shapes every experiment shares.

A spec is a type, a tuple of types (None allowed), a dict of specs (a key
ending in "?" is optional; the key "*" matches every key), a one-element list
meaning "a list of these", or `Nullable(spec)` for an object that may be null.
`check_shape` walks a document against a spec and names the first field that
departs from it, so a reader's error points at the exact place.

Each experiment declares the shape of its own `data` (see `declaration`);
the shapes here are the ones the runner writes for every run.
"""

from __future__ import annotations

from typing import Any

Spec = Any


class Nullable:
    """A spec that also accepts null: `Nullable({...})` for an object that may be absent."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec


class NonEmpty:
    """A spec for a list that must hold at least one item: `NonEmpty([NUMBER])`."""

    def __init__(self, spec: list[Any]) -> None:
        self.spec = spec


class Positive:
    """A number above zero: a measured duration (a clock difference) is never 0 or negative."""


POSITIVE = Positive()
# Every repeat's duration, and the list of them: what a summary is made from.
TIMINGS: Spec = NonEmpty([POSITIVE])

NUMBER = (int, float)
OPT_NUMBER = (int, float, None)
OPT_INT = (int, None)
OPT_STR = (str, None)

SUMMARY_SPEC: Spec = {
    "n": int,
    "median": OPT_NUMBER,
    "q1": OPT_NUMBER,
    "q3": OPT_NUMBER,
    "iqr": OPT_NUMBER,
    "min": OPT_NUMBER,
    "max": OPT_NUMBER,
    "mean": OPT_NUMBER,
    "stdev": OPT_NUMBER,
    "cv": OPT_NUMBER,
    "noisy": bool,
}

# A least-squares line y = intercept + slope·x with a 95 % interval for the slope.
FIT_SPEC: Spec = {
    "slope": NUMBER,
    "intercept": NUMBER,
    "slope_stderr": NUMBER,
    "slope_ci95": [NUMBER],
    "n": int,
}

# Why something was not measured, as an identifier the report words in its own
# language (`code`), with the numbers a sentence needs, or the error a failed
# attempt raised (`error`, an exception's type and first line: data, not prose).
REASON_SPEC: Spec = {
    "code": str,
    "error?": OPT_STR,
    "step_s?": NUMBER,
    "projected_s?": NUMBER,
    "limit_s?": NUMBER,
}

# Where a workload's samples came from: `kind` is an identifier (synthetic, iris,
# digits, mnist_files, cifar10_files), `path` a folder with the home directory as ~.
DATA_SOURCE_SPEC: Spec = {"kind": str, "path": OPT_STR}


def depth(value: Any, limit: int) -> int:
    """How deeply `value` nests lists and objects, counting no further than `limit` + 1."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > limit:
                return level
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def device_entry(**fields: Spec) -> Spec:
    """The shape of one device's part of a result: who measured, then what."""
    return {"device": str, "device_name": str, "simulated": bool, **fields}


RUN_SPEC: Spec = {
    "schema_version": int,
    "kind": str,
    "label": str,
    "run_id": str,
    "profile": str,
    "seed": OPT_INT,
    "only": [str],
    "overrides": {"*": str},
    "command": [str],
    "invoked_as?": OPT_STR,
    "package_version": str,
    "git_commit": OPT_STR,
    "started_utc": str,
    "finished_utc": OPT_STR,
    "status": str,
    # why an incomplete run stopped (an optional addition within version 2)
    "reason?": OPT_STR,
    "experiments": {"*": {"status": str, "reason": OPT_STR, "file": OPT_STR}},
    # fresh worker processes that measure the timings again after the run (an optional
    # addition within version 4; absent: none)
    "workers?": int,
}

# The live readings of a GPU (NVML), at the start and the end of a run.
_GPU_READING: Spec = Nullable(
    {
        "temperature_c?": OPT_NUMBER,
        "sm_clock_mhz?": OPT_NUMBER,
        "memory_clock_mhz?": OPT_NUMBER,
        "power_draw_w?": OPT_NUMBER,
    }
)

# The notes' reading of a GeForce model name (RTX 3080 Ti: generation 30, tier 80, Ti).
GEFORCE_READING: Spec = {
    "series": str,
    "generation": str,
    "generation_architecture": OPT_STR,
    "tier": str,
    "variant": OPT_STR,
}

# Every field the report reads is typed here (optional ones may be absent), so a wrong type
# stops the reader with one line instead of breaking a template.
ENVIRONMENT_SPEC: Spec = {
    "schema_version": int,
    "kind": str,
    "cpu": {
        "model": OPT_STR,
        "vendor?": OPT_STR,
        "architecture?": OPT_STR,
        "family?": OPT_INT,
        "model_number?": OPT_INT,
        "microarchitecture?": OPT_STR,
        "generation?": Nullable({"line": str, "generation": (int, str), "tier": OPT_STR}),
        "physical_cores": OPT_INT,
        "logical_threads": OPT_INT,
        "affinity_threads?": OPT_INT,
        "frequency_mhz?": {
            "current?": OPT_NUMBER,
            "min?": OPT_NUMBER,
            "max?": OPT_NUMBER,
            "advertised?": OPT_NUMBER,
        },
        "caches?": [{"level": int, "type": str, "size_bytes": int, "shared_by_cpus": str}],
        "isa?": {"*": bool},
        "torch_cpu_capability?": OPT_STR,
    },
    "memory": {"total_bytes": OPT_INT, "available_bytes?": OPT_INT},
    "gpus": [
        {
            "name": str,
            "total_memory_bytes": OPT_INT,
            "index?": int,
            "compute_capability?": OPT_STR,
            "architecture?": OPT_STR,
            "tensor_cores?": {"fp16": bool, "bf16": bool, "tf32": bool},
            "geforce_reading?": Nullable(GEFORCE_READING),
            "sm_count?": OPT_INT,
            "power_limit_w?": OPT_NUMBER,
            "pcie_generation?": OPT_INT,
            "pcie_width?": OPT_INT,
            "pcie_max_generation?": OPT_INT,
            "pcie_max_width?": OPT_INT,
            "start?": _GPU_READING,
            "end?": _GPU_READING,
        }
    ],
    "gpu_driver?": OPT_STR,
    "torch": {
        "version": OPT_STR,
        "cuda_build?": OPT_STR,
        "cudnn_version?": OPT_INT,
        "blas?": OPT_STR,
        "mkl?": bool,
        "mkldnn?": bool,
        "openmp?": bool,
        "cuda_available?": bool,
        "device_count?": int,
        "current_device?": OPT_INT,
        "mps_available?": bool,
        "default_threads?": int,
        "default_interop_threads?": int,
    },
    "python": {"version": str},
    "os": {"system": str, "release?": OPT_STR, "platform?": OPT_STR},
    "env": {"*": OPT_STR},
    # the NVIDIA driver's own answer, apart from torch, and what torch makes of it
    "nvidia?": {
        "source": str,
        "driver_version": OPT_STR,
        "cuda_driver_version": OPT_STR,
        "gpus": [
            {
                "name": str,
                "total_memory_bytes": OPT_INT,
                "geforce_reading": Nullable(GEFORCE_READING),
            }
        ],
        "status": str,
        "torch_cuda": OPT_STR,
        "suggested_build": OPT_STR,
    },
    "unavailable": [{"source": str, "code": OPT_STR, "detail": OPT_STR}],
}

# The reference workload's checkpoints during one experiment (experiments.contract.drift).
DRIFT_SPEC: Spec = {
    "workload": str,
    "steps": int,
    # more reference workloads timed at the same moments, by name: their size and threads
    "others?": {"*": {"count": int, "threads": int}},
    "checkpoints": [{"at_s": NUMBER, "times_s": TIMINGS, "others?": {"*": TIMINGS}}],
    "every_s?": NUMBER,  # the checkpoints' intended spacing between repeats (absent: 10 s)
}

EXPERIMENT_SPEC: Spec = {
    "schema_version": int,
    "kind": str,
    "experiment": str,
    "status": str,
    "reason": OPT_STR,
    "config": dict,
    "seed": OPT_INT,
    "devices": [str],
    "started_utc": str,
    "finished_utc": str,
    "conditions": {
        "other_processes_cpu_cores?": NUMBER,
        "busy_machine?": bool,
        # null where the system keeps none (Windows, until psutil's emulation has a reading)
        "load_average_before?": Nullable([NUMBER]),
        "load_average_after?": Nullable([NUMBER]),
        "reference?": DRIFT_SPEC,
        "planted_slowdown?": NUMBER,
        # the numeric settings when the experiment's timings ended (its own thread count);
        # the flat keys beside it are the state when it began (absent in older files)
        "measured?": {"torch_threads": int, "torch_interop_threads": int},
    },
    "data": (dict, None),
    # the same timings measured again in fresh worker processes after the run, one entry a
    # worker (experiments.core.replicas): its values by metric key; `error` where it failed
    "processes?": [{"round": int, "at_s": NUMBER, "values": {"*": [POSITIVE]}, "error?": str}],
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _spec_name(spec: Spec) -> str:
    if isinstance(spec, tuple):
        return " or ".join(_spec_name(s) for s in spec)
    if spec is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", dict: "object"}.get(
        spec, getattr(spec, "__name__", str(spec))
    )


def matches_type(value: Any, spec: Spec) -> bool:
    if isinstance(spec, tuple):
        return any(matches_type(value, s) for s in spec)
    if spec is None:
        return value is None
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec is float:
        return isinstance(value, float)
    return isinstance(value, spec)


def type_name(value: Any) -> str:
    return _type_name(value)


def check_shape(value: Any, spec: Spec, where: str = "") -> tuple[str, str] | None:
    """The first (field, problem) where `value` departs from `spec`, or None."""
    if isinstance(spec, Nullable):
        return None if value is None else check_shape(value, spec.spec, where)
    if isinstance(spec, NonEmpty):
        if isinstance(value, list) and not value:
            return where, "expected at least one value, got an empty list"
        return check_shape(value, spec.spec, where)
    if isinstance(spec, Positive):
        if not matches_type(value, (int, float)):
            return where, f"expected a number, got {_type_name(value)}"
        return None if value > 0 else (where, f"expected a number above 0, got {value!r}")
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return where or "(top level)", f"expected an object, got {_type_name(value)}"
        for key, sub in spec.items():
            if key == "*":
                for name, item in value.items():
                    found = check_shape(item, sub, f"{where}.{name}" if where else name)
                    if found:
                        return found
                continue
            optional = key.endswith("?")
            name = key.rstrip("?")
            field = f"{where}.{name}" if where else name
            if name not in value:
                if optional:
                    continue
                return field, "missing"
            found = check_shape(value[name], sub, field)
            if found:
                return found
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return where, f"expected a list, got {_type_name(value)}"
        for index, item in enumerate(value):
            found = check_shape(item, spec[0], f"{where}[{index}]")
            if found:
                return found
        return None
    if not matches_type(value, spec):
        return where, f"expected {_spec_name(spec)}, got {_type_name(value)}"
    return None
