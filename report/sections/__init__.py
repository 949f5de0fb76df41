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
from types import ModuleType
from typing import Any

from experiments.contract import declaration
from report import vocabulary
from report.formatting import aside, number, percent
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
    # a failed experiment's own error message, as the program wrote it (English, from torch
    # or Python): shown as code after a sentence in the reader's language, never as prose
    error: str | None = None


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
    stored = document["reason"]
    raw = document["status"] == "failed" and isinstance(stored, str)
    error = stored if raw and not vocabulary.known(stored) else None
    reason = _("it stopped with an error, in the program's own words:") if error else None
    return Section(
        name,
        title(name),
        document["status"],
        reason or vocabulary.reason(stored),
        template(name),
        {"config": document["config"]},
        error=error,
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


def caveats(summary: dict[str, Any] | None, conditions: dict[str, Any]) -> str:
    """What a headline number must carry with it: its noise flag and a busy machine, as a
    parenthesis to append (empty when the measurement is clean)."""
    notes = []
    if summary and summary.get("noisy"):
        notes.append(_("noisy: CV {cv}").format(cv=percent(summary["cv"])))
    if conditions.get("busy_machine"):
        notes.append(
            _("other programs used {cores} CPU cores meanwhile").format(
                cores=number(conditions.get("other_processes_cpu_cores"), 2)
            )
        )
    return aside(_("; ").join(notes)) if notes else ""


def gpu_measured(devices: list[dict[str, Any]]) -> bool:
    """Whether a real GPU (not the CPU, not a stand-in) is among these measured devices."""
    return any(d["device"] != "cpu" and not d["simulated"] for d in devices)


def _modules() -> dict[str, ModuleType]:
    """The section module of every declared experiment that this report can show."""
    found: dict[str, ModuleType] = {}
    for name in declaration.names():
        module_name = f"{__name__}.{name}"
        try:
            found[name] = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
    return found


def builders() -> dict[str, Builder]:
    return {name: module.build for name, module in _modules().items()}


def section_terms() -> dict[str, tuple[str, str]]:
    """Glossary terms the experiments' section modules bring (their `TERMS`)."""
    terms: dict[str, tuple[str, str]] = {}
    for module in _modules().values():
        terms.update(getattr(module, "TERMS", {}))
    return terms
