"""From a validated run to report.html and report.pdf (the PDF is the same HTML, printed)."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from experiments.contract import declaration
from experiments.contract.summary import NOISE_CV
from report import formatting, i18n, vocabulary
from report.load import RunResults
from report.sections import Section, builders, title
from report.sections import machine as machine_section

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Where templates are looked up, in order (a test adds a folder for a toy experiment).
TEMPLATE_PATHS: list[Path] = [TEMPLATES]


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
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        gettext=i18n._, ngettext=i18n.ngettext, newstyle=True
    )
    env.filters.update(formatting.FILTERS)
    env.filters.update(
        data_source=vocabulary.data_source,
        reason=vocabulary.reason,
        layers=vocabulary.model_layers,
    )
    return env


def ordered(names: Iterable[str]) -> list[str]:
    """The declarations' order (the notes' order), not the file's sorted keys."""
    rank = {name: index for index, name in enumerate(declaration.names())}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def _sections(run: RunResults) -> list[Section]:
    known = builders()
    sections = []
    for name in ordered(run.manifest["experiments"]):
        document = run.experiments.get(name)
        if document is None:
            reason = (
                "not run: the run was interrupted before this experiment finished"
                if run.manifest["status"] != "complete"
                else "not run"
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
                    "this version of the report cannot show this experiment",
                    "sections/missing.html.j2",
                )
            )
            continue
        sections.append(builder(document, run))
    return sections


def _method(run: RunResults) -> dict[str, Any]:
    rows = []
    for name in ordered(run.experiments):
        document = run.experiments[name]
        config = document["config"]
        conditions = document["conditions"]
        rows.append(
            {
                "name": name,
                "status": document["status"],
                "warmup": config.get("warmup"),
                "repeats": config.get("repeats"),
                "threads": config.get("threads"),
                "other_cores": conditions.get("other_processes_cpu_cores"),
                "busy": conditions.get("busy_machine"),
                "load_before": conditions.get("load_average_before"),
                "load_after": conditions.get("load_average_after"),
                "settings": conditions,
            }
        )
    return {"rows": rows, "noise_cv": NOISE_CV}


def context(run: RunResults) -> dict[str, Any]:
    sections = _sections(run)
    manifest = run.manifest
    return {
        "manifest": manifest,
        "run_dir": str(run.directory),
        "title": f"Why is my GPU slower than my CPU? — {manifest['label']}",
        "machine": machine_section.build(run.environment),
        "sections": sections,
        "findings": [f for s in sections for f in s.findings],
        "problems": [s for s in sections if s.status != "ok"],
        "method": _method(run),
        "command": shlex.join(manifest["command"]),
        "sha256": sorted(run.sha256.items()),
        "seeds": {name: doc["seed"] for name, doc in run.experiments.items()},
    }


def render_html(run: RunResults) -> str:
    return environment().get_template("report.html.j2").render(context(run))


def html_to_pdf(html: str, base_url: Path) -> bytes:
    import weasyprint

    # WeasyPrint logs every CSS property it ignores at WARNING; our CSS is
    # print-first, so only errors are worth a user's attention.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    pdf = weasyprint.HTML(string=html, base_url=str(base_url)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
