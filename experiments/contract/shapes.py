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
    "experiments": {"*": {"status": str, "reason": OPT_STR, "file": OPT_STR}},
}

ENVIRONMENT_SPEC: Spec = {
    "schema_version": int,
    "kind": str,
    "cpu": {
        "model": OPT_STR,
        "physical_cores": OPT_INT,
        "logical_threads": OPT_INT,
        "generation?": Nullable(dict),
    },
    "memory": {"total_bytes": OPT_INT},
    "gpus": [{"name": str, "total_memory_bytes": OPT_INT}],
    "torch": {"version": OPT_STR},
    "python": {"version": str},
    "os": {"system": str},
    "env": {"*": OPT_STR},
    "unavailable": [{"source": str, "code": OPT_STR, "detail": OPT_STR}],
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
    "conditions": dict,
    "data": (dict, None),
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
