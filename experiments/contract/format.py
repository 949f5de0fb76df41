"""The result format: the contract between what measures and what renders.

Standard library only, so that `report/` reads result files on a machine that
has no torch. Files are plain JSON with sorted keys, indent 2 and a trailing
newline, so two machines' results diff well in git.

Every file carries `schema_version` and `kind`. Readers reject a newer
version, and a file that is not valid, with one line that names the file and
the field. Older versions are brought up to date by `upgrades.UPGRADES`, one
step at a time, so every reader works on the current version only.

The rule for versions: an optional addition (a new field that readers may
ignore and that old files may lack) needs no new version; a change of meaning
or of shape does, with an upgrade function and a line in HISTORY.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments.contract import declaration, shapes
from experiments.contract.atomic import write_atomic
from experiments.contract.summary import summarize
from experiments.contract.upgrades import UPGRADES

SCHEMA_VERSION = 4

# What each version changed, and why. Newest last.
HISTORY: tuple[tuple[int, str], ...] = (
    (1, "First format: run.json, environment.json and one file per experiment."),
    (
        1,
        "Optional additions within version 1: run.json `invoked_as`; logging_interval "
        "`notes_intervals.p_value` and `.alpha` (the verdict `exceeds_noise` became a "
        "Kruskal–Wallis test; files without a p-value used 'median spread > 2 pooled SD'); "
        "batch_size_scaling and mixed_precision `data_source`.",
    ),
    (
        2,
        "Words out of the data: result files hold identifiers and numbers, and the report "
        "words them in the reader's language. Removed: experiment `title` and "
        "`device_names`, step_overhead variant `description`, mixed_precision workload "
        "`description`, the model descriptions of cpu_vs_gpu and batch_size_scaling "
        "(now layer `widths`). Reshaped: `data_source` is {kind, path}; an unsupported "
        "variant or mode is {code, error, …}; environment `unavailable` entries are "
        "{source, code, detail}; `cpu.generation` is an object; GeForce `tier_meaning` "
        "left the data. Added meaning: logging_interval `notes_intervals.rule` names the "
        "rule behind `exceeds_noise` (version 1 files without a p-value are marked "
        "'spread_over_2sd', the rule that made them). Paths are stored with the home "
        "directory as ~.",
    ),
    (
        3,
        "More values per timing, and the machine's own drift. Long loops are read by the "
        "clock in equal chunks: cpu_vs_gpu `chunk_epochs`/`chunk_epoch_s` and crossover "
        "`each_step_s`, logging_interval `chunk_epoch_s`, step_overhead and mixed_precision "
        "`chunk_steps`/`chunk_step_s`, batch_size_scaling and data_parallel "
        "`chunk_step_s` (version 2 files: one chunk per repeat). Every "
        "experiment's `conditions.reference` holds the reference workload's checkpoints "
        "(absent in older files: drift not measured), `conditions.planted_slowdown` marks "
        "a test run. logging_interval `notes_intervals` gains `smallest_p` and `method`, "
        "and `p_value` is null where the test could never reach alpha; its `direct` holds "
        "one `.item()` timed on its own (null in older files). step_overhead gains the "
        "variants compiled_step, numpy and cpp.",
    ),
    (
        4,
        "More reference workloads: `conditions.reference.others` names them with their "
        "size and threads (`tiny_ops`, one-element additions: the dispatch cost of "
        "microsecond-scale timings; `two_threads`, a small layer on two threads) and every "
        "checkpoint's `others` holds their readings, taken at the same moments as "
        "`times_s`. Version 3 files have the first workload only; nothing else changed.",
    ),
    (
        4,
        "Optional addition within version 4: an experiment's `processes` holds its timings "
        "measured again in fresh worker processes after the run (one entry a worker: the "
        "round, when it ended, the values by metric key, and the error where it failed); "
        "files without it were measured in one process.",
    ),
)

RUN_FILE = "run.json"
ENVIRONMENT_FILE = "environment.json"
# results/LAST_RUN names the folder of the last run, for `render` without arguments.
LAST_RUN_FILE = "LAST_RUN"

# No result file nests deeper than this; a deeper one is not ours (and would exhaust the stack).
MAX_DEPTH = 32
# The raw timings a summary is computed from, by the key they are stored under.
RAW_TIMINGS = ("times_s", "step_s", "epoch_s")
# A stored summary may differ from the one recomputed from its raw values by rounding only.
SUMMARY_TOLERANCE = 1e-9

RUN_STATUSES = ("running", "complete", "incomplete")
EXPERIMENT_STATUSES = ("ok", "skipped", "failed")
MANIFEST_STATUSES = ("pending", *EXPERIMENT_STATUSES)

JSONDict = dict[str, Any]

KIND_SPECS: dict[str, shapes.Spec] = {
    "run": shapes.RUN_SPEC,
    "environment": shapes.ENVIRONMENT_SPEC,
    "experiment": shapes.EXPERIMENT_SPEC,
}


class ResultFormatError(Exception):
    """A result file that cannot be used; its text is the one line a user sees."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = Path(path)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}: {self.detail}")

    @property
    def detail(self) -> str:
        """The problem with its field, without the file's path."""
        return f"field '{self.field}': {self.problem}" if self.field else self.problem


def shareable_path(path: str | Path) -> str:
    """A path as result files store it: the home directory written as ~ (folders are shared,
    and a user name has no business in a classmate's copy)."""
    text = str(path)
    home = os.path.expanduser("~")
    if home and home != "~" and (text == home or text.startswith(home.rstrip(os.sep) + os.sep)):
        return "~" + text[len(home.rstrip(os.sep)) :]
    return text


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


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    write_atomic(path, dumps(document))


# --------------------------------------------------------------------------
# Reading


def upgrade(document: JSONDict, path: Path) -> JSONDict:
    version = document["schema_version"]
    while version < SCHEMA_VERSION:
        step = UPGRADES.get(version)
        if step is None:
            raise ResultFormatError(
                path, "schema_version", f"version {version} is not known to this tool"
            )
        try:
            document = step(document)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise ResultFormatError(
                path, "", f"cannot upgrade from version {version}: {type(error).__name__} {error}"
            ) from None
        version = document["schema_version"]
    return document


def validate(document: Any, path: Path, expected_kind: str | None = None) -> JSONDict:
    """Check and upgrade a parsed document; raise ResultFormatError naming the field."""
    if not isinstance(document, dict):
        raise ResultFormatError(path, "", "not a result file (top level is not a JSON object)")
    if "schema_version" not in document:
        raise ResultFormatError(path, "schema_version", "missing; not a result file of this tool")
    version = document["schema_version"]
    if not shapes.matches_type(version, int):
        raise ResultFormatError(
            path, "schema_version", f"expected integer, got {shapes.type_name(version)}"
        )
    if version > SCHEMA_VERSION:
        raise ResultFormatError(
            path,
            "schema_version",
            f"version {version} is newer than this tool reads ({SCHEMA_VERSION}); update the tool",
        )
    kind = document.get("kind")
    if not isinstance(kind, str) or kind not in KIND_SPECS:
        raise ResultFormatError(path, "kind", f"expected one of {sorted(KIND_SPECS)}, got {kind!r}")
    if expected_kind is not None and kind != expected_kind:
        raise ResultFormatError(path, "kind", f"expected {expected_kind!r}, got {kind!r}")
    if version < SCHEMA_VERSION:
        document = upgrade(document, path)
    found = shapes.check_shape(document, KIND_SPECS[kind])
    if found:
        raise ResultFormatError(path, *found)
    _check_values(document, path)
    checked: JSONDict = document
    return checked


def _check_summaries(value: Any, path: Path, where: str) -> None:
    """Every summary equals the one its raw values give: the report shows summaries, the
    diff computes from raw values, and both must say the same."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_summaries(item, path, f"{where}[{index}]")
        return
    if not isinstance(value, dict):
        return
    raw_key = next((k for k in RAW_TIMINGS if k in value), None)
    if raw_key is not None and isinstance(value.get("summary"), dict):
        stored, recomputed = value["summary"], summarize(value[raw_key])
        for key, expected in recomputed.items():
            found = stored.get(key)
            same = (
                found == expected
                if not isinstance(expected, float) or not isinstance(found, int | float)
                else math.isclose(found, expected, rel_tol=SUMMARY_TOLERANCE, abs_tol=1e-15)
            )
            if not same:
                raise ResultFormatError(
                    path,
                    f"{where}.summary.{key}",
                    f"{found!r} does not match the {len(value[raw_key])} raw values in "
                    f"{raw_key} (they give {expected!r})",
                )
    for key, item in value.items():
        if key != "summary":
            _check_summaries(item, path, f"{where}.{key}" if where else key)


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
            # a file reference stays inside the run folder: exactly the experiment's own file
            if entry["file"] not in (None, f"{name}.json") or not name.isidentifier():
                raise ResultFormatError(
                    path,
                    f"experiments.{name}.file",
                    f"expected {name}.json or null, got {entry['file']!r}",
                )
    elif kind == "experiment":
        status = document["status"]
        if status not in EXPERIMENT_STATUSES:
            raise ResultFormatError(path, "status", f"expected one of {list(EXPERIMENT_STATUSES)}")
        if status == "ok":
            name = document["experiment"]
            try:
                spec = declaration.get(name).data_spec
            except KeyError:
                raise ResultFormatError(
                    path, "experiment", f"unknown experiment {name!r}"
                ) from None
            found = shapes.check_shape(document["data"], spec, "data")
            if found:
                raise ResultFormatError(path, *found)
            _check_summaries(document["data"], path, "data")
        elif not document["reason"]:
            raise ResultFormatError(path, "reason", f"a {status} experiment must say why")


def read_document(path: Path, expected_kind: str | None = None) -> JSONDict:
    """Read and validate one result file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultFormatError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ResultFormatError(path, "", "is a folder, not a result file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ResultFormatError(path, "", f"cannot read: {error}") from None
    try:
        document = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_bounded
        )
    except json.JSONDecodeError as error:
        raise ResultFormatError(
            path, "", f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except _NonFinite as error:
        raise ResultFormatError(
            path, "", f"not valid JSON for this tool: {error} is not a number a result may hold"
        ) from None
    except RecursionError:
        raise ResultFormatError(path, "", f"nested deeper than {MAX_DEPTH} levels") from None
    if shapes.depth(document, MAX_DEPTH) > MAX_DEPTH:
        raise ResultFormatError(path, "", f"nested deeper than {MAX_DEPTH} levels")
    return validate(document, path, expected_kind)


class _NonFinite(ValueError):
    """NaN, Infinity or -Infinity in a file: Python's JSON reader accepts them, JSON does not."""


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


# No measurement is this large or this close to zero; sums and ratios of such numbers
# overflow to infinity or divide to NaN in the summaries and comparisons made from them.
LARGEST_FLOAT = 1e200
SMALLEST_FLOAT = 1e-200


def _finite(text: str) -> float:
    """A JSON number as a float: 1e999 reads as infinity, which no result may hold; numbers
    beyond LARGEST_FLOAT or nearer zero than SMALLEST_FLOAT are refused too."""
    value = float(text)
    if not math.isfinite(value) or not (
        value == 0 or SMALLEST_FLOAT <= abs(value) <= LARGEST_FLOAT
    ):
        raise _NonFinite(text)
    return value


# Larger integers do not fit a float, and every number here is read as one somewhere.
LARGEST_INTEGER = 2**63


def _bounded(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # int() itself refuses past 4300 digits, with a ValueError
        raise _NonFinite(f"{text[:20]}… ({len(text)} digits)")
    value = int(text)
    if abs(value) > LARGEST_INTEGER:
        raise _NonFinite(f"{text[:20]}… ({len(text)} digits)")
    return value
