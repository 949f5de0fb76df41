"""One view builder per experiment, found by the experiment's name.

`report/render/sections/<name>.py` has `build(document, run) -> Section` and
`templates/sections/<name>.html.j2` places what it returns. A builder turns a
validated result document into the plain values its template places (numbers
stay numbers: the template's filters format them, words come from the
vocabulary and the language catalogue).

A section module may also say what the diff shows of its experiment besides the
timings (`side_by_side(runs) -> SideBySide | None`: every run's loss curve in one
plot, a table of bytes run by run): the diff asks every section for it and names no
experiment itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from experiments.contract import declaration
from report.render.load import RunResults
from report.words import vocabulary
from report.words.formatting import aside, number, percent
from report.words.i18n import _


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


@dataclass(frozen=True)
class SideBySide:
    """What the diff shows of one experiment beyond its timings, for several runs at once:
    a figure (a data URI) or a table whose cells are already worded, and what it means."""

    name: str
    title: str
    caption: str
    figure: str | None = None
    alt: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


# (run label, that run's `ok` document of the experiment), for every run that has one
Runs = Sequence[tuple[str, dict[str, Any]]]


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


def side_by_side(runs: Sequence[tuple[str, dict[str, dict[str, Any]]]]) -> list[SideBySide]:
    """Every experiment's extras for the diff, in the notes' order: `runs` holds each run's
    label and its documents by experiment; a section sees only its own experiment's `ok`
    documents, and says None where it has nothing to show (fewer than two runs, say)."""
    shown = []
    for name, module in _modules().items():
        make = getattr(module, "side_by_side", None)
        if make is None:
            continue
        own = [
            (label, document)
            for label, documents in runs
            if (document := documents.get(name)) is not None and document["status"] == "ok"
        ]
        if (extra := make(own)) is not None:
            shown.append(extra)
    return shown


def section_terms() -> dict[str, tuple[str, str]]:
    """Glossary terms the experiments' section modules bring (their `TERMS`)."""
    terms: dict[str, tuple[str, str]] = {}
    for module in _modules().values():
        terms.update(getattr(module, "TERMS", {}))
    return terms
