"""One view builder per experiment, found by the experiment's name.

`report/render/sections/<name>.py` has `build(document, run) -> Section` and
`templates/sections/<name>.html.j2` places what it returns. A builder turns a
validated result document into the plain values its template places (numbers
stay numbers: the template's filters format them, words come from the
vocabulary and the language catalogue).

A section module may also say what the comparisons show of its experiment, so that
they name no experiment themselves:

- `side_by_side(runs) -> SideBySide | None`: for the diff, beyond the timings (every
  run's loss curve in one plot, a table of bytes run by run);
- `headlines(document, environment) -> list[Headline]`: for the class view, the few
  figures of one machine that go in its row and are ranked across machines;
- `across_machines(machines) -> list[SideBySide]` and `class_sentences(machines) ->
  list[str]`: for the class view, the plots and sentences that answer the notes'
  questions across many machines.
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


@dataclass(frozen=True)
class Headline:
    """One figure of one machine that the class view shows in the machine's row and ranks.

    A figure backed by a declared timing `metric` (its key in the experiment's metrics) is
    the median of that metric's raw values, which the class view computes itself (pooled
    over a machine's runs, if asked) and tests against the class median with the diff's
    tests; any other figure carries its `value`. `better` orders the ranking ("lower",
    "higher"; "" for a fact that is not ranked); `unit` says how it reads ("duration",
    "ratio", "bytes", "count", "flops", "percent")."""

    key: str
    label: str
    unit: str
    better: str = "lower"
    value: float | None = None
    metric: str | None = None
    note: str = ""
    # the figure's own interval holds zero: no machine's value differs from nothing
    uncertain: bool = False
    simulated: bool = False  # measured on a stand-in device (tests): never a real GPU


@dataclass(frozen=True)
class Machine:
    """What a section sees of one machine in the class view: its name on the page, its `ok`
    document of the section's experiment (from the run used), its environment, and whether
    it is the reader's own (`--mine`)."""

    label: str
    document: dict[str, Any]
    environment: dict[str, Any]
    mine: bool = False


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


def first_gpu(devices: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first device entry that is not the CPU (a stand-in included: its figures carry
    the note "simulated")."""
    return next((d for d in devices if d["device"] != "cpu"), None)


def device_note(entry: dict[str, Any]) -> str:
    return _("simulated") if entry["simulated"] else ""


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


def headlines(name: str, document: dict[str, Any], environment: dict[str, Any]) -> list[Headline]:
    """An experiment's headline figures for one machine (none where its section gives none
    or the experiment did not finish)."""
    module = _modules().get(name)
    make = getattr(module, "headlines", None)
    if make is None or document["status"] != "ok":
        return []
    found: list[Headline] = make(document, environment)
    return found


def across_machines(name: str, machines: Sequence[Machine]) -> tuple[list[SideBySide], list[str]]:
    """An experiment's plots and sentences across the machines of a class view."""
    module = _modules().get(name)
    plots = getattr(module, "across_machines", None)
    sentences = getattr(module, "class_sentences", None)
    # one machine alone is its own report's subject, not a comparison
    return (
        plots(machines) if plots and len(machines) > 1 else [],
        sentences(machines) if sentences and machines else [],
    )


def section_terms() -> dict[str, tuple[str, str]]:
    """Glossary terms the experiments' section modules bring (their `TERMS`)."""
    terms: dict[str, tuple[str, str]] = {}
    for module in _modules().values():
        terms.update(getattr(module, "TERMS", {}))
    return terms
