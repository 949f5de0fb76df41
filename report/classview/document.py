"""class.json: the class view's figures and verdicts for scripts and a course site.

Numbers and identifiers only, the same whatever the page's language (figures are named
by their keys, machines by the names the page gives them, anonymous ones included).
`schema_version` changes when a field changes meaning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report.classview.group import Machine
from report.classview.rank import ClassResult, Figure

CLASS_SCHEMA_VERSION = 1


def _path(path: Path, anonymous: bool) -> str:
    return path.name if anonymous else path.as_posix()


def _figure(figure: Figure) -> dict[str, Any]:
    record: dict[str, Any] = {
        "machine": figure.machine.label,
        "value": figure.value,
        "values": len(figure.values),
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


def document(result: ClassResult, anonymous: bool = False) -> dict[str, Any]:
    collected = result.collected
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
                {"path": _path(p.path, anonymous), "reason": p.reason} for p in collected.problems
            ],
            "copies": [
                {"path": _path(c.path, anonymous), "of": _path(c.of, anonymous)}
                for c in collected.copies
            ],
            "upgraded": [
                {"path": _path(path, anonymous), "version": version}
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
