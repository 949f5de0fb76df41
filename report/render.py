"""From a validated run to HTML, in one language: the whole report or one experiment's part.

The PDF is the same HTML printed by WeasyPrint; the Markdown is the same HTML
turned into Markdown (report.markdown). Every sentence passes through the
language catalogue (report.i18n); every number through the filters
(report.formatting); every technical term through the glossary.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from experiments.contract import declaration, drift
from experiments.contract.summary import BUSY_OTHER_CORES, NOISE_CV
from report import fonts, formatting, glossary, i18n, vocabulary
from report.i18n import _
from report.load import RunResults
from report.sections import Section, builders, section_terms, title
from report.sections import machine as machine_section

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Where templates are looked up, in order (a test adds a folder for a toy experiment).
TEMPLATE_PATHS: list[Path] = [TEMPLATES]
# Replaced by the @font-face rules of exactly the glyphs a rendered document uses.
FONT_MARKER = "/* embedded fonts */"


def environment() -> jinja2.Environment:
    """The one Jinja environment: strict (a typo is an error, not a blank) and escaping."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_PATHS),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=False,  # keep the newline after a tag: it is the space between sentences
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # a trans block's line breaks are not part of it
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        gettext=i18n._, ngettext=i18n.ngettext, newstyle=True
    )
    env.filters.update(formatting.FILTERS)
    env.filters.update(
        data_source=vocabulary.data_source,
        reason=vocabulary.reason,
        layers=vocabulary.model_layers,
        status=vocabulary.status,
        profile=vocabulary.profile,
    )
    return env


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
    spacings = [
        record["every_s"]
        for name in names
        if (record := run.experiments[name]["conditions"].get("reference")) and "every_s" in record
    ]
    planted = sorted(
        {
            value
            for name in names
            if (value := run.experiments[name]["conditions"].get("planted_slowdown"))
        }
    )
    return {
        "rows": rows,
        "noise_cv": NOISE_CV,
        "busy_cores": BUSY_OTHER_CORES,
        "checkpoints": len(checkpoints),
        # files from before `every_s` was recorded took a checkpoint about every 10 s
        "every_s": max(spacings, default=10.0),
        "drift": drift.widest_within(drift.one_core(series)),
        "two_threads_drift": drift.within(series.get(drift.TWO_THREADS, [])),
        "reference_s": drift.level(checkpoints),
        "tiny_s": drift.level(series.get(drift.TINY_OPS, [])),
        "two_threads_s": drift.level(series.get(drift.TWO_THREADS, [])),
        "planted": planted,
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


def embed_fonts(html: str) -> str:
    """Put the @font-face rules for the CJK glyphs this document uses in place of the marker
    (and, in Chinese, drop the spaces that English sentence joins leave after 。，；：)."""
    if i18n.language() != i18n.SOURCE_LANGUAGE:
        html = tighten_after_full_width(html)
    return html.replace(FONT_MARKER, fonts.font_face_css(html), 1)


_KEEP_AS_IS = re.compile(r"(<(pre|code|script|style)\b.*?</\2>)", re.DOTALL)
_GAP_AFTER_FULL_WIDTH = re.compile(r"([。，；：！？）」”])[ \t\r\n]+(?=\S)")


def tighten_after_full_width(html: str) -> str:
    """Templates join sentences with a space, as English needs; after full-width
    punctuation Chinese needs none (the punctuation carries its own space), so it goes,
    everywhere but inside code."""
    parts = _KEEP_AS_IS.split(html)
    out = []
    index = 0
    while index < len(parts):
        out.append(_GAP_AFTER_FULL_WIDTH.sub(r"\1", parts[index]))
        if index + 1 < len(parts):
            out.append(parts[index + 1])  # the code block, untouched
        index += 3  # split() returns text, the whole match, the tag name
    return "".join(out)


def render_html(
    run: RunResults, language: str = i18n.SOURCE_LANGUAGE, part: str | None = None
) -> str:
    """The report (or, with `part`, one experiment's document) as one self-contained page."""
    with i18n.using(language):
        html = environment().get_template("report.html.j2").render(context(run, part))
        return embed_fonts(html)
