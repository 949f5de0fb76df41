"""The result format: the contract between what measures and what renders.

This module imports nothing from torch (nor anything outside the standard
library) so that `report/` can read result files on a machine that has no
torch. Files are plain JSON with sorted keys, indent 2 and a trailing newline
so that two machines' results diff well in git.

Every file carries `schema_version` and `kind`. Readers reject a newer
version, and a file that is not valid, with one line that names the file and
the field. Older versions are brought up to date by the functions in
`UPGRADES`, one step at a time.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

RUN_FILE = "run.json"
ENVIRONMENT_FILE = "environment.json"
# results/LAST_RUN names the folder of the last run, for `render` without arguments.
LAST_RUN_FILE = "LAST_RUN"

RUN_STATUSES = ("running", "complete", "incomplete")
EXPERIMENT_STATUSES = ("ok", "skipped", "failed")
MANIFEST_STATUSES = ("pending", *EXPERIMENT_STATUSES)

JSONDict = dict[str, Any]


class ResultFormatError(Exception):
    """A result file that cannot be used; its text is the one line a user sees."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = Path(path)
        self.field = field
        self.problem = problem
        where = f"field '{field}': " if field else ""
        super().__init__(f"{self.path}: {where}{problem}")


# --------------------------------------------------------------------------
# Writing


def _reject_non_finite(value: Any) -> Any:
    """JSON has no NaN or infinity: a diverged loss must be stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"non-finite number {value!r} in result; store None instead")
    if isinstance(value, Mapping):
        for item in value.values():
            _reject_non_finite(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_non_finite(item)
    return value


def dumps(document: Mapping[str, Any]) -> str:
    """The canonical text of a result file."""
    _reject_non_finite(document)
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write via a temporary file and a rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); results are meant to be shared.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    write_atomic(path, dumps(document))


# --------------------------------------------------------------------------
# Shapes. A spec is a type, a tuple of types (None allowed), a dict of specs
# (a key ending in "?" is optional; the key "*" matches every key), or a
# one-element list meaning "a list of these".

Spec = Any


class Nullable:
    """A spec that also accepts null: `Nullable({...})` for an object that may be absent."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec


NUMBER = (int, float)
OPT_NUMBER = (int, float, None)
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

RUN_SPEC: Spec = {
    "schema_version": int,
    "kind": str,
    "label": str,
    "run_id": str,
    "profile": str,
    "seed": (int, None),
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
    "cpu": {"model": OPT_STR, "physical_cores": (int, None), "logical_threads": (int, None)},
    "memory": {"total_bytes": (int, None)},
    "gpus": [{"name": str, "total_memory_bytes": (int, None)}],
    "torch": {"version": OPT_STR},
    "python": {"version": str},
    "os": {"system": str},
    "env": {"*": OPT_STR},
    "unavailable": [str],
}

EXPERIMENT_SPEC: Spec = {
    "schema_version": int,
    "kind": str,
    "experiment": str,
    "status": str,
    "reason": OPT_STR,
    "config": dict,
    "seed": (int, None),
    "devices": [str],
    "started_utc": str,
    "finished_utc": str,
    "conditions": dict,
    "data": (dict, None),
}

# Experiment-specific shapes of `data`, checked when status is "ok".
# An experiment adds its entry here; report/ relies on exactly these fields.
DATA_SPECS: dict[str, Spec] = {
    "cpu_vs_gpu": {
        "iris": {
            "dataset": {"train_rows": int, "test_rows": int, "features": int, "classes": int},
            "model": {"description": str, "parameters": int},
            "epochs": int,
            "threads": int,
            "flops_per_epoch": int,
            "per_device": [
                {
                    "device": str,
                    "device_name": str,
                    "simulated": bool,
                    "warmup_s": [NUMBER],
                    "times_s": [NUMBER],
                    "summary": SUMMARY_SPEC,
                    "final_loss": OPT_NUMBER,
                    "test_accuracy": NUMBER,
                    "curve_every": int,
                    "curve": [OPT_NUMBER],
                    "curve_sha256": [str],
                    "curves_identical": bool,
                }
            ],
        },
        "crossover": {
            "threads": int,
            "steps": int,
            "per_device": [
                {
                    "device": str,
                    "device_name": str,
                    "simulated": bool,
                    "points": [
                        {
                            "size": int,
                            "flops_per_step": int,
                            "warmup_step_s": [NUMBER],
                            "step_s": [NUMBER],
                            "summary": SUMMARY_SPEC,
                        }
                    ],
                    "crossover_size": (int, None),
                }
            ],
        },
    },
}

DATA_SPECS["logging_interval"] = {
    "epochs": int,
    "threads": int,
    "per_device": [
        {
            "device": str,
            "device_name": str,
            "simulated": bool,
            "variants": [
                {
                    "every": (int, None),
                    "records": int,
                    "warmup_s": [NUMBER],
                    "times_s": [NUMBER],
                    "summary": SUMMARY_SPEC,
                    "final_loss": OPT_NUMBER,
                }
            ],
            "fit": Nullable(
                {
                    "slope": NUMBER,
                    "intercept": NUMBER,
                    "slope_stderr": NUMBER,
                    "slope_ci95": [NUMBER],
                    "n": int,
                }
            ),
            "notes_intervals": Nullable(
                {
                    "intervals": [int],
                    "median_spread_s": NUMBER,
                    "pooled_sd_s": NUMBER,
                    "p_value?": NUMBER,
                    "alpha?": NUMBER,
                    "exceeds_noise": bool,
                }
            ),
        }
    ],
}

DATA_SPECS["step_overhead"] = {
    "steps": int,
    "threads": int,
    "flops_per_step": int,
    "hooks": {"model_call_runs_hook": bool, "forward_runs_hook": bool},
    "per_device": [
        {
            "device": str,
            "device_name": str,
            "simulated": bool,
            "peak_flops": NUMBER,
            "floor_step_s": NUMBER,
            "variants": [
                {
                    "variant": str,
                    "description": str,
                    "unsupported": OPT_STR,
                    "first_call_s": OPT_NUMBER,
                    "warmup_s": [NUMBER],
                    "step_s": [NUMBER],
                    "summary": SUMMARY_SPEC,
                    "final_loss": OPT_NUMBER,
                    "loss_difference": OPT_NUMBER,
                    "max_parameter_difference": OPT_NUMBER,
                    "equivalent": (bool, None),
                    "ops_per_step": OPT_NUMBER,
                    "kernels_per_step": OPT_NUMBER,
                    "syncs_per_step": OPT_NUMBER,
                }
            ],
        }
    ],
}

_BUCKET_BYTES = {
    "parameters": int,
    "gradients": int,
    "optimizer_state": int,
    "data": int,
    "activations": int,
    "autocast_copies": int,
}
DATA_SPECS["memory_breakdown"] = {
    "buckets": [str],
    "per_device": [
        {
            "device": str,
            "device_name": str,
            "simulated": bool,
            "entries": [
                {
                    "model": str,
                    "parameter_count": int,
                    "optimizer": str,
                    "batch": int,
                    "precision": str,
                    "measured": _BUCKET_BYTES,
                    "predicted": _BUCKET_BYTES,
                    "match": bool,
                    "allocator": Nullable({"peak_bytes": int, "unexplained_bytes": int}),
                }
            ],
        }
    ],
}

_FIT = {
    "slope": NUMBER,
    "intercept": NUMBER,
    "slope_stderr": NUMBER,
    "slope_ci95": [NUMBER],
    "n": int,
}
DATA_SPECS["batch_size_scaling"] = {
    "model": str,
    "optimizer": str,
    "samples_per_epoch": int,
    "data_source?": str,
    "threads": int,
    "per_device": [
        {
            "device": str,
            "device_name": str,
            "simulated": bool,
            "points": [
                {
                    "batch": int,
                    "steps": int,
                    "warmup_s": [NUMBER],
                    "epoch_s": [NUMBER],
                    "summary": SUMMARY_SPEC,
                    "samples_per_s": NUMBER,
                    "peak_bytes": int,
                }
            ],
            "memory_fit": _FIT,
            "limit": {
                "method": str,
                "budget_bytes": (int, None),
                "memory_fraction": OPT_NUMBER,
                "largest_batch": (int, None),
                "reached_ceiling": bool,
                "search": [{"batch": int, "fits": bool}],
                "leaked_bytes": (int, None),
                "predicted_largest_batch": (int, None),
                "recommended_batch": (int, None),
                "confirmed_batch": (int, None),
                "confirmed_peak_bytes": (int, None),
                "predicted_peak_bytes": (int, None),
            },
        }
    ],
    "quality": {
        "dataset": {"name": str, "train_rows": int, "test_rows": int},
        "model": str,
        "sample_budget": int,
        "lr": NUMBER,
        "points": [{"batch": int, "steps": int, "test_loss": OPT_NUMBER, "test_accuracy": NUMBER}],
    },
}

DATA_SPECS["mixed_precision"] = {
    "init_scale": NUMBER,
    "per_device": [
        {
            "device": str,
            "device_name": str,
            "simulated": bool,
            "workloads": [
                {
                    "workload": str,
                    "description": str,
                    "data_source?": str,
                    "steps": int,
                    "batch": int,
                    "modes": [
                        {
                            "mode": str,
                            "unsupported": OPT_STR,
                            "scaler_used": bool,
                            "warmup_s": [NUMBER],
                            "step_s": [NUMBER],
                            "summary": SUMMARY_SPEC,
                            "memory": Nullable(_BUCKET_BYTES),
                            "final_loss": OPT_NUMBER,
                            "accuracy": OPT_NUMBER,
                            "max_parameter_difference": OPT_NUMBER,
                            "max_loss_difference": OPT_NUMBER,
                            "skipped_steps": (int, None),
                            "final_scale": OPT_NUMBER,
                            "nonfinite_losses": (int, None),
                        }
                    ],
                }
            ],
        }
    ],
}

KIND_SPECS: dict[str, Spec] = {
    "run": RUN_SPEC,
    "environment": ENVIRONMENT_SPEC,
    "experiment": EXPERIMENT_SPEC,
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


def _matches_type(value: Any, spec: Spec) -> bool:
    if isinstance(spec, tuple):
        return any(_matches_type(value, s) for s in spec)
    if spec is None:
        return value is None
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec is float:
        return isinstance(value, float)
    return isinstance(value, spec)


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
    if not _matches_type(value, spec):
        return where, f"expected {_spec_name(spec)}, got {_type_name(value)}"
    return None


# --------------------------------------------------------------------------
# Upgrades: UPGRADES[n] turns a version-n document into version n+1. Version 1
# is the first, so there are none yet; the reader already walks the chain.

UPGRADES: dict[int, Callable[[JSONDict], JSONDict]] = {}


def upgrade(document: JSONDict, path: Path) -> JSONDict:
    version = document["schema_version"]
    while version < SCHEMA_VERSION:
        step = UPGRADES.get(version)
        if step is None:
            raise ResultFormatError(
                path, "schema_version", f"version {version} is not known to this tool"
            )
        document = step(document)
        version = document["schema_version"]
    return document


# --------------------------------------------------------------------------
# Reading


def validate(document: Any, path: Path, expected_kind: str | None = None) -> JSONDict:
    """Check and upgrade a parsed document; raise ResultFormatError naming the field."""
    if not isinstance(document, dict):
        raise ResultFormatError(path, "", "not a result file (top level is not a JSON object)")
    if "schema_version" not in document:
        raise ResultFormatError(path, "schema_version", "missing; not a result file of this tool")
    version = document["schema_version"]
    if not _matches_type(version, int):
        raise ResultFormatError(
            path, "schema_version", f"expected integer, got {_type_name(version)}"
        )
    if version > SCHEMA_VERSION:
        raise ResultFormatError(
            path,
            "schema_version",
            f"version {version} is newer than this tool reads ({SCHEMA_VERSION}); update the tool",
        )
    if version < SCHEMA_VERSION:
        document = upgrade(document, path)
    kind = document.get("kind")
    if kind not in KIND_SPECS:
        raise ResultFormatError(path, "kind", f"expected one of {sorted(KIND_SPECS)}, got {kind!r}")
    if expected_kind is not None and kind != expected_kind:
        raise ResultFormatError(path, "kind", f"expected {expected_kind!r}, got {kind!r}")
    found = check_shape(document, KIND_SPECS[kind])
    if found:
        raise ResultFormatError(path, *found)
    _check_values(document, path)
    checked: JSONDict = document
    return checked


def _check_values(document: JSONDict, path: Path) -> None:
    kind = document["kind"]
    if kind == "run":
        if document["status"] not in RUN_STATUSES:
            raise ResultFormatError(path, "status", f"expected one of {list(RUN_STATUSES)}")
        for name, entry in document["experiments"].items():
            if entry["status"] not in MANIFEST_STATUSES:
                raise ResultFormatError(
                    path, f"experiments.{name}.status", f"expected one of {list(MANIFEST_STATUSES)}"
                )
    elif kind == "experiment":
        status = document["status"]
        if status not in EXPERIMENT_STATUSES:
            raise ResultFormatError(path, "status", f"expected one of {list(EXPERIMENT_STATUSES)}")
        if status == "ok":
            name = document["experiment"]
            spec = DATA_SPECS.get(name)
            if spec is None:
                raise ResultFormatError(path, "experiment", f"unknown experiment {name!r}")
            found = check_shape(document["data"], spec, "data")
            if found:
                raise ResultFormatError(path, *found)
        elif not document["reason"]:
            raise ResultFormatError(path, "reason", f"a {status} experiment must say why")


def read_document(path: Path, expected_kind: str | None = None) -> JSONDict:
    """Read and validate one result file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultFormatError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ResultFormatError(path, "", f"cannot read: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultFormatError(
            path, "", f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    return validate(document, path, expected_kind)
