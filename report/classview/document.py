"""class.json: the class view's figures and verdicts for scripts and a course site.

Numbers and identifiers only, the same whatever the page's language (figures are named
by their keys, machines by the names the page gives them, anonymous ones included).
`schema_version` changes when a field changes meaning.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from report.classview import group
from report.classview.group import Machine
from report.classview.rank import ClassResult, Figure

CLASS_SCHEMA_VERSION = 1


def _path(path: Path, folders: dict[Path, str] | None) -> str:
    """A path as the JSON gives it: whole, or on an anonymous page as the page names it."""
    return path.as_posix() if folders is None else group.anonymous_path(path, folders)


def _figure(figure: Figure) -> dict[str, Any]:
    record: dict[str, Any] = {
        "machine": figure.machine.label,
        "value": figure.value,
        "values": len(figure.values),
        "processes": max(1, len(figure.processes)),
        "runs": [r.manifest["run_id"] for r in figure.runs],
        "class_median": figure.is_median,
    }
    comparison = figure.comparison
    if comparison is not None:
        record.update(
            ratio_to_median=comparison.ratio,
            p_value=comparison.p_value,
            adjusted_p=comparison.adjusted_p,
            threshold=comparison.threshold,
            verdict=comparison.verdict,
            reason=comparison.reason,
            rule=comparison.rule,
        )
    return record


def _machine(machine: Machine) -> dict[str, Any]:
    environment = machine.environment
    cpu = environment["cpu"]
    return {
        "name": machine.label,
        "mine": machine.mine,
        "runs": [r.manifest["run_id"] for r in machine.runs],
        "complete": machine.latest.complete,
        "cpu": cpu.get("model"),
        "physical_cores": cpu.get("physical_cores"),
        "logical_threads": cpu.get("logical_threads"),
        "memory_bytes": environment["memory"].get("total_bytes"),
        "gpus": [
            {"name": g["name"], "memory_bytes": g.get("total_memory_bytes")}
            for g in environment["gpus"]
        ],
        "torch": environment["torch"].get("version"),
    }


def _renamed(value: Any, names: dict[str, str]) -> Any:
    """`value` with every machine name (alone, or before "/" in a path) given its other name."""
    if isinstance(value, dict):
        return {key: _renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, names) for item in value]
    if isinstance(value, str):
        head, slash, tail = value.partition("/")
        if head in names:
            return names[head] + slash + tail
    return value


def _finite(value: Any) -> Any:
    """JSON holds no NaN or infinity: a figure computed from extreme values is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def document(
    result: ClassResult, anonymous: bool = False, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """The class view's numbers; `names` renames machines (an anonymous page's "机器 A" is
    "Machine A" here: the file is the same in every language)."""
    found: dict[str, Any] = _finite(_renamed(_document(result, anonymous), names or {}))
    return found


def _document(result: ClassResult, anonymous: bool) -> dict[str, Any]:
    collected = result.collected
    folders = group.run_folders_named([c.cohort for c in result.cohorts]) if anonymous else None
    reason = group.anonymous_reason if anonymous else str
    return {
        "schema_version": CLASS_SCHEMA_VERSION,
        "kind": "class",
        "alpha": result.alpha,
        "min_ratio": result.min_ratio,
        "runs_used": "pooled" if result.pooled else "latest",
        "tested": result.tested,
        "read": {
            "found": collected.searched,
            "used": len(collected.runs),
            "left_out": [
                {"path": _path(p.path, folders), "reason": reason(p.reason)}
                for p in collected.problems
            ],
            "copies": [
                {"path": _path(c.path, folders), "of": _path(c.of, folders)}
                for c in collected.copies
            ],
            "upgraded": [
                {"path": _path(path, folders), "version": version}
                for path, version in collected.upgraded.items()
            ],
        },
        "cohorts": [
            {
                "profile": cohort.cohort.profile,
                "machines": [_machine(m) for m in cohort.cohort.machines],
                "experiments": [
                    {
                        "experiment": experiment.name,
                        "groups": [
                            {
                                "config": group.group.config,
                                "machines": [m.label for m, _runs in group.group.members],
                                "figures": [
                                    {
                                        "key": ranking.key,
                                        "unit": ranking.unit,
                                        "better": ranking.better or None,
                                        "ranked": [_figure(f) for f in ranking.figures],
                                    }
                                    for ranking in group.rankings
                                ],
                            }
                            for group in experiment.groups
                        ],
                    }
                    for experiment in cohort.experiments
                ],
            }
            for cohort in result.cohorts
        ],
    }
