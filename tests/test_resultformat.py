"""The result format: canonical text, atomic writes, one-line errors naming file and field."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from experiments.contract import atomic, shapes, upgrades
from experiments.contract import format as rf


def _environment() -> dict[str, Any]:
    return {
        "schema_version": rf.SCHEMA_VERSION,
        "kind": "environment",
        "cpu": {"model": "X", "physical_cores": 2, "logical_threads": 4},
        "memory": {"total_bytes": 1024},
        "gpus": [],
        "torch": {"version": "2.13.0"},
        "python": {"version": "3.11.7"},
        "os": {"system": "Linux"},
        "env": {"A": None},
        "unavailable": [],
    }


def test_canonical_text_is_sorted_indented_and_ends_with_newline() -> None:
    text = rf.dumps({"b": 1, "a": {"d": [1.5], "c": "é"}})
    assert text == '{\n  "a": {\n    "c": "é",\n    "d": [\n      1.5\n    ]\n  },\n  "b": 1\n}\n'


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        rf.dumps({"loss": [0.5, float("nan")]})


def test_round_trip_is_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "environment.json"
    rf.write_document(path, _environment())
    first = path.read_bytes()
    rf.write_document(path, rf.read_document(path, "environment"))
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["environment.json"]  # no temp file left


def _error(tmp_path: Path, content: str | None, kind: str | None = None) -> str:
    path = tmp_path / "x.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(rf.ResultFormatError) as caught:
        rf.read_document(path, kind)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


@pytest.mark.parametrize(
    ("number", "shown"),
    [("1e999", "1e999"), ("-1e999", "-1e999"), ("9" * 400, "9" * 20), ("9" * 5000, "9" * 20)],
)
def test_a_number_no_float_can_hold_is_refused(tmp_path: Path, number: str, shown: str) -> None:
    """JSON's reader turns 1e999 into infinity and 400 digits into an int no float holds:
    either would crash a summary later; the reader refuses them, naming the number."""
    message = _error(tmp_path, '{"schema_version": 4, "kind": "run", "x": ' + number + "}")
    assert f"{shown}" in message and "is not a number a result may hold" in message


def test_errors_name_the_file_and_the_field(tmp_path: Path) -> None:
    assert _error(tmp_path, None).endswith("file not found")
    assert "not valid JSON (line 1, column 2" in _error(tmp_path, "{oops")
    assert "top level is not a JSON object" in _error(tmp_path, "[1, 2]")
    assert "field 'schema_version': missing; not a result file" in _error(
        tmp_path, json.dumps({"name": "some other tool"})
    )
    current = rf.SCHEMA_VERSION
    newer = _environment() | {"schema_version": current + 1}
    assert f"version {current + 1} is newer than this tool reads ({current})" in _error(
        tmp_path, json.dumps(newer)
    )
    wrong_kind = _error(tmp_path, json.dumps(_environment()), "run")
    assert "field 'kind': expected 'run', got 'environment'" in wrong_kind
    broken = _environment()
    broken["cpu"]["physical_cores"] = "two"
    assert "field 'cpu.physical_cores': expected integer or null, got string" in _error(
        tmp_path, json.dumps(broken)
    )
    missing = _environment()
    del missing["memory"]
    assert "field 'memory': missing" in _error(tmp_path, json.dumps(missing))


def test_booleans_are_not_integers() -> None:
    assert shapes.check_shape({"n": True}, {"n": int}) == ("n", "expected integer, got boolean")
    assert shapes.check_shape([1, 2.5], [float]) == ("[0]", "expected number, got integer")


def test_older_versions_go_through_the_upgrade_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _environment() | {"schema_version": 0}
    del old["unavailable"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    assert "version 0 is not known" in _error(tmp_path, json.dumps(old))
    # a planted step 0 -> 1, then the real 1 -> 2 turns version 1's sentence into a record
    monkeypatch.setitem(
        upgrades.UPGRADES,
        0,
        lambda d: {**d, "schema_version": 1, "unavailable": ["NVML (nvidia-ml-py): gone"]},
    )
    assert rf.read_document(path)["unavailable"] == [
        {"source": "nvml", "code": "error", "detail": "gone"}
    ]


def test_experiment_status_rules(tmp_path: Path) -> None:
    document = {
        "schema_version": rf.SCHEMA_VERSION,
        "kind": "experiment",
        "experiment": "cpu_vs_gpu",
        "status": "skipped",
        "reason": None,
        "config": {},
        "seed": 0,
        "devices": ["cpu"],
        "started_utc": "t",
        "finished_utc": "t",
        "conditions": {},
        "data": None,
    }
    assert "field 'reason': a skipped experiment must say why" in _error(
        tmp_path, json.dumps(document)
    )
    document |= {"status": "ok"}
    assert "field 'data': expected an object, got null" in _error(tmp_path, json.dumps(document))
    document |= {"status": "done"}
    assert "field 'status': expected one of ['ok', 'skipped', 'failed']" in _error(
        tmp_path, json.dumps(document)
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    previous = os.umask(0o027)
    try:
        atomic.write_atomic(path, "{}\n")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o640  # mkstemp's 0600 widened to what umask allows


def test_a_failed_write_leaves_no_temporary_and_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary is closed before it is removed (Windows refuses to remove an open file),
    so nothing is left beside the untouched old file."""
    path = tmp_path / "run.json"
    atomic.write_atomic(path, "old\n")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        atomic.write_atomic(path, "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
    assert path.read_text(encoding="utf-8") == "old\n"
