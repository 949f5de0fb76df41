"""One view builder per experiment; the registry mirrors `experiments.EXPERIMENTS`.

A builder turns a validated result document into the plain values its
template places (numbers stay numbers: the template's filters format them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from report.load import RunResults


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    status: str
    reason: str | None
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)


Builder = Callable[[dict[str, Any], RunResults], Section]


def unfinished(document: dict[str, Any], title: str, template: str) -> Section | None:
    """The section of a skipped or failed experiment: its status and reason, nothing else."""
    if document["status"] == "ok":
        return None
    return Section(
        document["experiment"],
        title,
        document["status"],
        document["reason"],
        template,
        {"config": document["config"]},
    )


def device_label(entry: dict[str, Any]) -> str:
    """How a measured device is named in tables and legends."""
    kind = "CPU" if entry["device"] == "cpu" else entry["device"]
    suffix = " (simulated)" if entry["simulated"] else ""
    return f"{entry['device_name']} [{kind}]{suffix}"


def builders() -> dict[str, Builder]:
    from report.sections import (
        batch_size_scaling,
        cpu_vs_gpu,
        logging_interval,
        memory_breakdown,
        mixed_precision,
        step_overhead,
    )

    return {
        "cpu_vs_gpu": cpu_vs_gpu.build,
        "logging_interval": logging_interval.build,
        "step_overhead": step_overhead.build,
        "memory_breakdown": memory_breakdown.build,
        "batch_size_scaling": batch_size_scaling.build,
        "mixed_precision": mixed_precision.build,
    }
