"""From a validated run to HTML, in one language: the whole report or one experiment's part.

The PDF is the same HTML printed by WeasyPrint; the Markdown is the same HTML
turned into Markdown (report.outputs.markdown). Every sentence passes through the
language catalogue (report.words.i18n); every number through the filters
(report.words.formatting); every technical term through the glossary.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Any

from experiments.contract import declaration, drift
from experiments.contract.summary import BUSY_OTHER_CORES, NOISE_CV
from report.render.environment import FONT_MARKER, embed_fonts, environment
from report.render.load import RunResults
from report.render.sections import Section, builders, section_terms, title
from report.render.sections import machine as machine_section
from report.words import glossary, i18n, vocabulary
from report.words.i18n import _


def ordered(names: Iterable[str]) -> list[str]:
    """The declarations' order (the notes' order), not the file's sorted keys."""
    rank = {name: index for index, name in enumerate(declaration.names())}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def _sections(run: RunResults, part: str | None = None) -> list[Section]:
    known = builders()
    sections = []
    for name in ordered(run.manifest["experiments"]):
        if part is not None and name != part:
            continue
        document = run.experiments.get(name)
        if document is None:
            reason = (
                _("not run: the run was interrupted before this experiment finished")
                if run.manifest["status"] != "complete"
                else _("not run")
            )
            sections.append(
                Section(name, title(name), "not run", reason, "sections/missing.html.j2")
            )
            continue
        builder = known.get(name)
        if builder is None:
            sections.append(
                Section(
                    name,
                    title(name),
                    "unsupported",
                    _("this version of the report cannot show this experiment"),
                    "sections/missing.html.j2",
                )
            )
            continue
        try:
            sections.append(builder(document, run))
        except (
            KeyError,
            IndexError,
            TypeError,
            ValueError,
            ZeroDivisionError,
            StopIteration,
        ) as error:
            # a file that passes the reader but holds what the builder does not expect (made
            # by hand, or by a newer tool): the section says so; the rest of the report stands
            reason = _("this file cannot be shown: {error}").format(
                error=f"{type(error).__name__}: {error}"
            )
            sections.append(
                Section(name, title(name), "unreadable", reason, "sections/missing.html.j2")
            )
    return sections


def _method(run: RunResults, names: Iterable[str]) -> dict[str, Any]:
    rows = []
    for name in names:
        document = run.experiments[name]
        config = document["config"]
        conditions = document["conditions"]
        rows.append(
            {
                "name": name,
                "title": title(name),
                "status": document["status"],
                "warmup": config.get("warmup"),
                "repeats": config.get("repeats"),
                "threads": config.get("threads"),
                "other_cores": conditions.get("other_processes_cpu_cores"),
                "busy": conditions.get("busy_machine"),
                "load_before": conditions.get("load_average_before"),
                "load_after": conditions.get("load_average_after"),
                "settings": conditions,
                "measured": conditions.get("measured"),
                "drift": drift.widest_within(
                    drift.one_core(drift.workload_series(conditions.get("reference")))
                ),
            }
        )
    series = drift.run_series(run.experiments[name] for name in names)
    checkpoints = series.get(drift.MLP_STEPS, [])
    planted = sorted(
        {
            value
            for name in names
            if (value := run.experiments[name]["conditions"].get("planted_slowdown"))
        }
    )
    workers = max((len(run.experiments[name].get("processes", [])) for name in names), default=0)
    return {
        "rows": rows,
        "noise_cv": NOISE_CV,
        "busy_cores": BUSY_OTHER_CORES,
        "checkpoints": len(checkpoints),
        "every_s": drift.spacing(run.experiments[name] for name in names),
        "drift": drift.widest_within(drift.one_core(series)),
        "two_threads_drift": drift.within(series.get(drift.TWO_THREADS, [])),
        "reference_s": drift.level(checkpoints),
        "tiny_s": drift.level(series.get(drift.TINY_OPS, [])),
        "two_threads_s": drift.level(series.get(drift.TWO_THREADS, [])),
        "planted": planted,
        "workers": workers,
        "replicated": [title(name) for name in names if run.experiments[name].get("processes")],
        # experiments that sat out some rounds (Declaration.replica_sits_out, which is also
        # the reason the sentence gives): how many processes they were measured again in
        "fewer_workers": [
            {"experiment": title(name), "count": count}
            for name in names
            if declaration.get(name).replica_sits_out.get(run.manifest["profile"])
            and 0 < (count := len(run.experiments[name].get("processes", []))) < workers
        ],
    }


def context(run: RunResults, part: str | None = None) -> dict[str, Any]:
    """What the report template places; with `part`, one experiment's document."""
    sections = _sections(run, part)
    if part is not None and not sections:
        raise ValueError(f"this run has no experiment {part!r}")
    manifest = run.manifest
    names = [n for n in ordered(run.experiments) if part is None or n == part]
    terms = {**glossary.TERMS, **section_terms()}
    document_glossary = glossary.Glossary(terms)
    files = {"run.json", "environment.json", *(f"{n}.json" for n in names)}
    return {
        "manifest": manifest,
        "run_dir": str(run.directory),
        "title": _("Why is my GPU slower than my CPU?") + f" — {manifest['label']}",
        "part": part,
        "html_lang": i18n.HTML_LANG[i18n.language()],
        "language_name": vocabulary.language_name(i18n.language()),
        "font_css": FONT_MARKER,
        "machine": machine_section.build(run.environment),
        "sections": sections,
        "findings": [f for s in sections for f in s.findings],
        "problems": [s for s in sections if s.status != "ok"],
        "method": _method(run, names),
        "command": shlex.join(manifest["command"]),
        "sha256": sorted((k, v) for k, v in run.sha256.items() if k in files),
        "seeds": {name: run.experiments[name]["seed"] for name in names},
        "term": document_glossary.term,
        "glossary": document_glossary,
    }


def render_html(
    run: RunResults, language: str = i18n.SOURCE_LANGUAGE, part: str | None = None
) -> str:
    """The report (or, with `part`, one experiment's document) as one self-contained page."""
    with i18n.using(language):
        html = environment().get_template("report.html.j2").render(context(run, part))
        return embed_fonts(html)
