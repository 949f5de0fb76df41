"""diff.json: the comparison's outcome for scripts and CI, apart from its words.

Numbers and identifiers only, the same for every language of the report, so a
CI job can read verdicts and p-values without parsing a table meant for
people. `schema_version` changes when a field changes meaning.
"""

from __future__ import annotations

import statistics
from typing import Any

from experiments.contract.format import shareable_path
from report.diff.compare import DiffResult

DIFF_SCHEMA_VERSION = 1


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def document(result: DiffResult) -> dict[str, Any]:
    """The outcome for scripts and CI: numbers and identifiers only."""
    pairs = []
    for index, rows in result.rows.items():
        drift = result.drift[index]
        pairs.append(
            {
                "run": index,
                "copy_of_baseline": index in result.copies,
                # workers the processes rule left out (processes.slow_moments)
                "left_out": [
                    {
                        "label": w.label,
                        "experiment": w.experiment,
                        "round": w.round,
                        "ratio": w.ratio,
                    }
                    for w in result.left_out(index)
                ],
                "drift": {
                    "within_baseline": drift.within_baseline,
                    "within_other": drift.within_other,
                    "between": drift.between,
                    "same_machine": drift.same_machine,
                    "allowance": drift.allowance,
                    "allowance_several_cores": drift.allowance_several_cores,
                    "level_shift": drift.level_shift,
                    "level_shift_several_cores": drift.level_shift_several_cores,
                },
                "metrics": [
                    {
                        "experiment": row.experiment,
                        "key": row.metric.key,
                        "label": row.metric.label,
                        "params": dict(row.metric.params),
                        "device": row.metric.device,
                        "several_cores": row.metric.several_cores,
                        "n_baseline": len(row.baseline),
                        "n_other": len(row.other),
                        "median_baseline_s": _median(row.baseline),
                        "median_other_s": _median(row.other),
                        "ratio": row.comparison.ratio,
                        "interval": list(row.comparison.interval)
                        if row.comparison.interval
                        else None,
                        "p": row.comparison.p_value,
                        "adjusted_p": row.comparison.adjusted_p,
                        "smallest_p": row.comparison.smallest_p,
                        "threshold": row.comparison.threshold,
                        "verdict": row.comparison.verdict,
                        "reason": row.comparison.reason,
                        "rule": row.comparison.rule,
                        "processes": list(row.processes),
                    }
                    for row in rows
                ],
            }
        )
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "kind": "diff",
        "runs": [
            {"label": r.label, "run_id": r.run_id, "path": shareable_path(str(r.path))}
            for r in result.runs
        ],
        "baseline": result.baseline,
        "family": {
            "method": "holm",
            "alpha": result.alpha,
            "tested": result.tested,
            "min_ratio": result.min_ratio,
        },
        "pairs": pairs,
        "regressions": len(result.regressions),
        "busy": [
            {"label": n.label, "experiment": n.experiment, "other_cores": n.cores}
            for n in result.busy
        ],
        "planted_slowdown": result.planted,
    }
