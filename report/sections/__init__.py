"""One view builder per experiment, found by the experiment's name.

`report/sections/<name>.py` has `build(document, run) -> Section` and
`templates/sections/<name>.html.j2` places what it returns. A builder turns a
validated result document into the plain values its template places (numbers
stay numbers: the template's filters format them, words come from the
vocabulary and the language catalogue).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from experiments.contract import declaration
from report import vocabulary
from report.i18n import _
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


def template(name: str) -> str:
    return f"sections/{name}.html.j2"


def title(name: str) -> str:
    """An experiment's title in the reader's language (its identifier if unknown here)."""
    known = declaration.declarations().get(name)
    return _(known.title) if known else name


def unfinished(document: dict[str, Any]) -> Section | None:
    """The section of a skipped or failed experiment: its status and reason, nothing else."""
    if document["status"] == "ok":
        return None
    name = document["experiment"]
    return Section(
        name,
        title(name),
        document["status"],
        vocabulary.reason(document["reason"]),
        template(name),
        {"config": document["config"]},
    )


def section(document: dict[str, Any], context: dict[str, Any], findings: list[str]) -> Section:
    """The section of an experiment that ran."""
    name = document["experiment"]
    return Section(name, title(name), "ok", None, template(name), context, findings)


def device_label(entry: dict[str, Any]) -> str:
    """How a measured device is named in tables and legends."""
    kind = "CPU" if entry["device"] == "cpu" else entry["device"]
    suffix = " " + _("(simulated)") if entry["simulated"] else ""
    return f"{entry['device_name']} [{kind}]{suffix}"


def gpu_measured(devices: list[dict[str, Any]]) -> bool:
    """Whether a real GPU (not the CPU, not a stand-in) is among these measured devices."""
    return any(d["device"] != "cpu" and not d["simulated"] for d in devices)


def builders() -> dict[str, Builder]:
    """The builder of every declared experiment that this report can show."""
    found: dict[str, Builder] = {}
    for name in declaration.names():
        module_name = f"{__name__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        found[name] = module.build
    return found
