"""The class view as words and tables: class.html (the PDF is printed from it) and class.md.

Every word goes through the catalogue; every number is formatted here by its unit, with
the noise it carries, so the template only places strings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from report.classview import group
from report.classview.group import Machine
from report.classview.rank import ClassResult, ExperimentView, Figure, GroupView, Ranking
from report.diff.stats import CANNOT_TELL, FASTER, SLOWER, WITHIN_DRIFT, WITHIN_NOISE
from report.diff.views import REASONS, VERDICT_MARK
from report.render.environment import FONT_MARKER, embed_fonts, environment
from report.render.sections import title
from report.words import i18n, vocabulary
from report.words.formatting import (
    aside,
    byte_size,
    duration,
    gflops,
    listing,
    number,
    percent,
    ratio,
)
from report.words.i18n import _


def shown(value: float | None, unit: str, cv: float | None = None) -> str:
    """A figure in its unit, with no more digits than its noise supports."""
    if value is None:
        return "—"
    if unit == "duration":
        return duration(value, cv=cv)
    if unit == "ratio":
        return ratio(value)
    if unit == "bytes":
        return byte_size(value)
    if unit == "flops":
        return gflops(value)
    if unit == "percent":
        return percent(value)
    return number(value)


def _verdict(figure: Figure) -> str:
    if figure.is_median:
        return _("class median")
    comparison = figure.comparison
    if comparison is None:
        return ""
    return _(VERDICT_MARK[comparison.verdict])


def _cell(figure: Figure | None, ranking: Ranking) -> dict[str, str]:
    if figure is None:
        return {"value": "—", "detail": "", "verdict": ""}
    details = []
    if figure.cv is not None:
        details.append(_("CV {cv}").format(cv=percent(figure.cv)))
    if figure.headline.note:
        details.append(figure.headline.note)
    return {
        "value": shown(figure.value, ranking.unit, figure.cv),
        "detail": _("; ").join(details),
        "verdict": _verdict(figure),
    }


def _table(group: GroupView) -> dict[str, Any]:
    """Machines as rows in the order of the first ranked figure, one column per figure."""
    rankings = group.rankings
    lead = next((r for r in rankings if r.better), rankings[0] if rankings else None)
    order: list[Machine] = [f.machine for f in lead.figures] if lead else []
    for machine, _runs in group.group.members:
        if all(machine is not m for m in order):
            order.append(machine)
    rows = []
    for position, machine in enumerate(order, start=1):
        cells = []
        for ranking in rankings:
            figure = next((f for f in ranking.figures if f.machine is machine), None)
            cells.append(_cell(figure, ranking))
        rows.append(
            {"rank": position, "machine": machine.label, "mine": machine.mine, "cells": cells}
        )
    return {"header": [r.label for r in rankings], "rows": rows}


def _who(figure: Figure) -> str:
    """A machine as a sentence names it: a stand-in device's figure says so."""
    label = figure.machine.label
    return label + aside(_("simulated")) if figure.headline.simulated else label


def _ranking_sentence(ranking: Ranking) -> str | None:
    known = [f for f in ranking.figures if f.value is not None]
    if not known:
        return None
    if len(known) == 1:
        only = known[0]
        return _("{figure}: {value} on {machine}, the only machine that measured it.").format(
            figure=ranking.label, value=shown(only.value, ranking.unit), machine=_who(only)
        )
    if all(f.headline.uncertain for f in known):
        return _(
            "{figure}: on no machine distinguishable from zero (each value's own interval "
            "holds 0), so this ranking means nothing."
        ).format(figure=ranking.label)
    values = {shown(f.value, ranking.unit) for f in known}
    if len(values) == 1 and len(known) > 1:
        return _("{figure}: the same on every machine ({value}).").format(
            figure=ranking.label, value=values.pop()
        )
    if not ranking.better:
        low = min(known, key=lambda f: f.value or 0.0)
        high = max(known, key=lambda f: f.value or 0.0)
        return _("{figure}: from {low} ({low_machine}) to {high} ({high_machine}).").format(
            figure=ranking.label,
            low=shown(low.value, ranking.unit),
            low_machine=_who(low),
            high=shown(high.value, ranking.unit),
            high_machine=_who(high),
        )
    best, worst = known[0], known[-1]
    words = {
        "figure": ranking.label,
        "best_machine": _who(best),
        "best": shown(best.value, ranking.unit, best.cv),
        "worst_machine": _who(worst),
        "worst": shown(worst.value, ranking.unit, worst.cv),
    }
    if not (best.value and worst.value and best.value > 0 and worst.value > 0):
        # a fitted cost below zero (noise) has no "times apart"
        return _("{figure}: best {best_machine} ({best}), last {worst_machine} ({worst}).").format(
            **words
        )
    apart = worst.value / best.value if ranking.better == "lower" else best.value / worst.value
    return _(
        "{figure}: best {best_machine} ({best}), last {worst_machine} ({worst}), {apart} apart."
    ).format(**words, apart=ratio(apart))


def _tested_sentence(ranking: Ranking) -> str | None:
    median = ranking.median
    decided = [f.comparison for f in ranking.figures if f.comparison is not None]
    if median is None or not decided:
        return None
    count = {v: sum(1 for c in decided if c.verdict == v) for v in VERDICT_MARK}
    slower = [
        f.machine.label for f in ranking.figures if f.comparison and f.comparison.verdict == SLOWER
    ]
    faster = [
        f.machine.label for f in ranking.figures if f.comparison and f.comparison.verdict == FASTER
    ]
    sentence = _(
        "Against the machine at the class median ({machine}, {value}): {slower} slower and "
        "{faster} faster beyond noise and drift, {same} within them, {cannot} that the data "
        "cannot decide."
    ).format(
        machine=median.machine.label,
        value=shown(median.value, ranking.unit, median.cv),
        slower=count[SLOWER],
        faster=count[FASTER],
        same=count[WITHIN_NOISE] + count[WITHIN_DRIFT],
        cannot=count[CANNOT_TELL],
    )
    if faster:
        sentence += " " + _("Faster: {machines}.").format(machines=listing(faster))
    if slower:
        sentence += " " + _("Slower: {machines}.").format(machines=listing(slower))
    return sentence


def _group_view(group: GroupView) -> dict[str, Any]:
    sentences = []
    for ranking in group.rankings:
        for sentence in (_ranking_sentence(ranking), _tested_sentence(ranking)):
            if sentence:
                sentences.append(sentence)
    return {
        "differs": group.group.differs,
        "machines": len(group.group.members),
        "table": _table(group),
        "sentences": sentences,
    }


def _experiment(view: ExperimentView, profile: str) -> dict[str, Any]:
    return {
        "id": f"{profile}-{view.name}",
        "title": title(view.name),
        "sentences": view.sentences,
        "groups": [_group_view(g) for g in view.groups],
        "extras": view.extras,
    }


def _gpu(environment: dict[str, Any]) -> str:
    gpus = environment["gpus"] or (environment.get("nvidia") or {}).get("gpus", [])
    if not gpus:
        return _("no GPU")
    parts = []
    for gpu in gpus:
        text = gpu["name"]
        if gpu.get("total_memory_bytes"):
            text += " " + _("({memory} VRAM)").format(memory=byte_size(gpu["total_memory_bytes"]))
        reading = gpu.get("geforce_reading")
        if reading:
            text += " · " + _("generation {generation}, tier {tier}").format(
                generation=reading["generation"], tier=reading["tier"]
            )
        parts.append(text)
    if not environment["gpus"]:
        parts.append(_("not used by its torch"))
    return _("; ").join(parts)


def _cpu(environment: dict[str, Any]) -> str:
    cpu = environment["cpu"]
    text = cpu.get("model") or _("unknown CPU")
    if cpu.get("generation"):
        text += " · " + vocabulary.cpu_generation(cpu["generation"])
    return (
        text
        + " · "
        + _("{cores} cores, {threads} threads").format(
            cores=number(cpu.get("physical_cores")), threads=number(cpu.get("logical_threads"))
        )
    )


def _notes(machine: Machine) -> str:
    notes = []
    latest = machine.latest
    if not latest.complete:
        notes.append(
            _("latest run {status}").format(status=vocabulary.status(latest.manifest["status"]))
        )
    documents = [d for run in machine.runs for d in run.experiments.values()]
    if any(d["conditions"].get("planted_slowdown") for d in documents):
        notes.append(_("planted slowdown (a test of this tool)"))
    if any(device.startswith("sim:") for d in documents for device in d["devices"]):
        # the tests' stand-in (experiments.core.devices.SimulatedDevice): never a real GPU
        notes.append(_("a stand-in GPU of the tests (simulated), not a real one"))
    if any(d["conditions"].get("busy_machine") for d in documents):
        notes.append(_("other programs busy while it measured"))
    return _("; ").join(notes)


def _machine_row(machine: Machine) -> dict[str, Any]:
    latest = machine.latest
    torch = latest.environment["torch"]
    return {
        "machine": machine.label,
        "mine": machine.mine,
        "cpu": _cpu(machine.environment),
        "gpu": _gpu(machine.environment),
        "torch": torch.get("version") or "—",
        "date": str(latest.manifest.get("started_utc") or "—")[:10],
        "runs": len(machine.runs),
        "notes": _notes(machine),
    }


def _where(path: Path, roots: list[Path]) -> str:
    """A file as the page names it: relative to the folder searched where it is under one."""
    for root in roots:
        if path.resolve().is_relative_to(root):
            return os.path.relpath(path.resolve(), root)
    return str(path)


def _read_lines(result: ClassResult, roots: list[Path], anonymous: bool) -> list[str]:
    collected = result.collected
    if not anonymous:
        lines = [
            _("{path}: {reason}").format(path=_where(p.path, roots), reason=p.reason)
            for p in collected.problems
        ]
        return lines + [
            _("{path} holds the same measurements as {other}: counted once").format(
                path=_where(c.path, roots), other=_where(c.of, roots)
            )
            for c in collected.copies
        ]
    folders = group.run_folders_named([c.cohort for c in result.cohorts])
    lines = []
    for problem in collected.problems:
        where = group.anonymous_path(problem.path, folders) or _("a path given")
        reason = group.anonymous_reason(problem.reason)
        lines.append(_("{path}: {reason}").format(path=where, reason=reason))
    return lines + [
        _("a copy of a run of {machine}: counted once").format(
            machine=folders.get(c.of, _("a machine"))
        )
        for c in collected.copies
    ]


def context(result: ClassResult, roots: list[Path], anonymous: bool) -> dict[str, Any]:
    collected = result.collected
    machines = {m.key for c in result.cohorts for m in c.cohort.machines}
    lines = _read_lines(result, roots, anonymous)
    count = len(collected.problems)
    read, copies = lines[:count], lines[count:]
    return {
        "title": _("The class: {count} machines").format(count=len(machines)),
        "html_lang": i18n.HTML_LANG[i18n.language()],
        "font_css": FONT_MARKER,
        "found": _(
            "{found} run folders found, {used} used ({copies} copies counted once), {left} "
            "files left out; {upgraded} written by an older version of the format and read "
            "after upgrading."
        ).format(
            found=collected.searched,
            used=len(collected.runs),
            copies=len(collected.copies),
            left=len(collected.problems),
            upgraded=len(collected.upgraded),
        ),
        "left_out": read,
        "copies": copies,
        "runs_used": _(
            "Each machine's figures come from its latest run of those settings; its timings "
            "from all of them pooled."
        )
        if result.pooled
        else _("Each machine's figures come from its latest run of those settings."),
        "cohorts": [
            {
                "id": cohort.cohort.profile,
                "profile": vocabulary.profile(cohort.cohort.profile),
                "machines": [_machine_row(m) for m in cohort.cohort.machines],
                "experiments": [_experiment(e, cohort.cohort.profile) for e in cohort.experiments],
            }
            for cohort in result.cohorts
        ],
        "family": _(
            "{tested} comparisons with a class median were tested together; the chance of any "
            "false slower or faster among them is at most α = {alpha} (Holm's correction)."
        ).format(tested=result.tested, alpha=f"{result.alpha:g}"),
        "verdicts": [
            (
                _(VERDICT_MARK[SLOWER]),
                _("slower than the machine at the class median, beyond noise and drift"),
            ),
            (
                _(VERDICT_MARK[FASTER]),
                _("faster than the machine at the class median, beyond noise and drift"),
            ),
            (_(VERDICT_MARK[WITHIN_NOISE]), _("no difference the values can show")),
            (_(VERDICT_MARK[WITHIN_DRIFT]), _(REASONS["drift"])),
            (_(VERDICT_MARK[CANNOT_TELL]), _("the values cannot decide (too few, or too spread)")),
        ],
    }


def html(result: ClassResult, roots: list[Path], anonymous: bool = False) -> str:
    page = environment().get_template("class.html.j2").render(context(result, roots, anonymous))
    return embed_fonts(page)
