"""The comparison as a terminal table, Markdown for notes and HTML (which the PDF is made from).

Every word goes through the catalogue (the reader's language). diff.json, for scripts, is
made by diff_document.py: numbers and identifiers only, like the result files.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from experiments.contract import drift as drift_module
from experiments.contract.declaration import N_
from report.diff.compare import DiffResult, Drift, Row
from report.diff.method import MORE_WORKERS_OPTION, how_to_read, more_workers, rules_sentence
from report.diff.stats import (
    CANNOT_TELL,
    FASTER,
    SLOWER,
    WITHIN_DRIFT,
    WITHIN_NOISE,
)
from report.outputs.escaping import markdown_text, terminal_text
from report.render import factor_plots as plots_factors
from report.render.environment import FONT_MARKER, embed_fonts
from report.render.environment import environment as jinja_environment
from report.render.sections import side_by_side
from report.words import i18n
from report.words.formatting import NBSP, duration, percent, ratio
from report.words.i18n import _

VERDICT_MARK = {
    SLOWER: N_("SLOWER"),
    FASTER: N_("faster"),
    WITHIN_NOISE: "≈",
    WITHIN_DRIFT: N_("≈ drift"),
    CANNOT_TELL: "?",
}

# Why a timing got "?" or "≈ drift", for the reader.
REASONS = {
    "unreachable": N_("too few values: even a complete separation could not reach the level"),
    "few_values": N_("fewer than two values on one side"),
    "no_values": N_("no values on one side"),
    "not_finite": N_("a value that is not a finite number"),
    "zero_median": N_("a median of zero: no ratio"),
    "drift": N_(
        "a difference beyond chance (the plain test), but not beyond what the machines' own "
        "drift explains (the p columns test a difference beyond that threshold)"
    ),
    "spread": N_(
        "a difference beyond chance (the plain test), its median beyond the threshold (the "
        "drift, or --min-ratio), but its values spread too widely to show it beyond that "
        "threshold"
    ),
}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _interval(row: Row) -> str:
    interval = row.comparison.interval
    return f"{ratio(interval[0])}–{ratio(interval[1])}" if interval else "—"


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.2g}"


def header() -> list[str]:
    return [
        _("experiment"),
        _("metric"),
        _("values"),
        _("processes"),
        _("baseline"),
        _("this run"),
        _("ratio"),
        _("95 % interval"),
        _("p"),
        _("adjusted p"),
        _("verdict"),
    ]


def _typical(row: Row, side: int) -> float | None:
    """What a side's time is taken to be: the median of its values, or under the processes
    rule the geometric mean of its processes' medians (what the ratio compares)."""
    groups = row.comparison.groups
    if groups is not None:
        return math.exp(statistics.fmean(groups[side]))
    return _median(row.baseline if side == 0 else row.other)


def table_rows(rows: list[Row]) -> list[list[str]]:
    return [
        [
            row.experiment,
            row.name,
            # no line break inside a pair of counts: a phone's narrow column showed "34 / 34"
            # on three lines
            f"{len(row.baseline)}{NBSP}/{NBSP}{len(row.other)}",
            f"{row.processes[0]}{NBSP}/{NBSP}{row.processes[1]}",
            duration(_typical(row, 0)),
            duration(_typical(row, 1)),
            ratio(row.comparison.ratio) if row.comparison.ratio is not None else "—",
            _interval(row),
            _p(row.comparison.p_value),
            _p(row.comparison.adjusted_p),
            _(VERDICT_MARK[row.comparison.verdict]),
        ]
        for row in rows
    ]


def counts(rows: list[Row]) -> dict[str, int]:
    return {v: sum(1 for r in rows if r.comparison.verdict == v) for v in VERDICT_MARK}


def drift_sentence(drift: Drift, baseline: str, other: str) -> str:
    """What the machines' own drift was, and the ratio it sets, in one sentence."""
    if not drift.measured:
        return _(
            "Drift: not measured (result files from before the reference workload); only the "
            "minimum ratio guards against the machines changing speed."
        )
    parts = [
        _("{run}'s reference workloads varied by up to {spread} during its run").format(
            run=baseline, spread=percent((drift.within_baseline or 1) - 1)
        ),
        _("{run}'s by {spread}").format(run=other, spread=percent((drift.within_other or 1) - 1)),
    ]
    if drift.between is not None:
        parts.append(
            _(
                "between a moment of one run and a moment of the other it differed by up to "
                "{shift} (the same machine)"
            ).format(shift=percent(drift.between - 1))
        )
    if drift.allowance_several_cores > drift.allowance:
        return _(
            "Drift: {parts}. Differences below {threshold} are not called; for timings "
            "that ran on several cores, below {several} (the two-thread reference "
            "workload drifted that much)."
        ).format(
            parts=_("; ").join(parts),
            threshold=ratio(drift.allowance),
            several=ratio(drift.allowance_several_cores),
        )
    return _("Drift: {parts}. Differences below {threshold} are not called.").format(
        parts=_("; ").join(parts), threshold=ratio(drift.allowance)
    )


def family_sentence(result: DiffResult) -> str:
    if result.tested == 0:
        return _(
            "No timing had enough values for a verdict: every one is marked ? with the reason."
        )
    return _(
        "{tested} timings were tested together; the chance of any false SLOWER or faster "
        "among them is at most α = {alpha} (Holm's correction)."
    ).format(tested=result.tested, alpha=f"{result.alpha:g}")


def busy_lines(result: DiffResult) -> list[str]:
    return [
        _("{label}: {experiment} ran while other processes used {cores} CPU cores").format(
            label=note.label,
            experiment=note.experiment,
            cores=f"{note.cores:.2f}" if note.cores is not None else "?",
        )
        for note in result.busy
    ]


def warnings(result: DiffResult) -> list[str]:
    found = []
    for index in result.copies:
        found.append(
            _(
                "{run} holds exactly the baseline's measurements: a run compared with itself "
                "(or a copy) says nothing about either machine."
            ).format(run=_label(result, index))
        )
    for label in result.planted:
        found.append(
            _(
                "{run} was measured with a planted slowdown (a test of this tool), not as the "
                "machine runs."
            ).format(run=label)
        )
    return found


def _label(result: DiffResult, index: int) -> str:
    run = result.runs[index]
    return f"{run.label} / {run.run_id}"


def reasons(rows: list[Row]) -> list[str]:
    """One line per reason given, with how many timings it concerns."""
    tally: dict[str, int] = {}
    for row in rows:
        if row.comparison.reason in REASONS and row.comparison.verdict != WITHIN_NOISE:
            tally[row.comparison.reason] = tally.get(row.comparison.reason, 0) + 1
    lines = []
    for code, count in tally.items():
        verdict = WITHIN_DRIFT if code == "drift" else CANNOT_TELL
        lines.append(
            _("{mark}: {count} timing(s): {reason}").format(
                mark=_(VERDICT_MARK[verdict]), count=count, reason=_(REASONS[code])
            )
        )
    return lines


# --------------------------------------------------------------------------
# Terminal


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if "\u2e80" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" else 1 for c in text)


def terminal(result: DiffResult) -> str:
    lines = [_("baseline: {run}").format(run=_label(result, result.baseline))]
    lines += _machine_lines(result)
    lines += [_("warning: {text}").format(text=w) for w in warnings(result)]
    lines.append(family_sentence(result))
    for index, rows in result.rows.items():
        lines.append("")
        lines.append(_("{run} against the baseline:").format(run=_label(result, index)))
        lines.append(
            drift_sentence(
                result.drift[index], result.runs[result.baseline].label, result.runs[index].label
            )
        )
        if rules := rules_sentence(rows, result.drift[index], result.left_out(index)):
            lines.append(rules)
        if hint := more_workers(rows):
            lines.append(MORE_WORKERS_OPTION.join(hint))
        table = [header(), *table_rows(rows)]
        widths = [max(_width(r[c]) for r in table) for c in range(len(table[0]))]
        for r in table:
            lines.append(
                "  ".join(
                    cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True)
                ).rstrip()
            )
        lines += reasons(rows)
    for item in result.only_in_some:
        lines.append(_("only in some runs: {item}").format(item=item))
    lines += [_("busy machine: {note}").format(note=note) for note in busy_lines(result)]
    # every line carries text from result files: no control character reaches the terminal
    return "\n".join(terminal_text(line) for line in lines)


def _machine_lines(result: DiffResult) -> list[str]:
    rows = result.machines["identity"]
    if not rows:
        return [_("machines: no hardware or software differences")]
    lines = [_("machine differences (hardware and software):")]
    for row in rows:
        lines.append(f"  {row['field']}: " + " | ".join(str(v) for v in row["values"]))
    return lines


# --------------------------------------------------------------------------
# Markdown


def markdown(result: DiffResult) -> str:
    md = markdown_text
    labels = [md(_label(result, i)) for i in range(len(result.runs))]
    out = [
        "# " + _("Comparison against {run}").format(run=labels[result.baseline]),
        "",
    ]
    out += [f"> **{md(_('warning'))}**: {md(w)}" for w in warnings(result)]
    out += ["", "## " + _("Machines"), ""]
    if result.machines["identity"]:
        out.append(f"| {md(_('field'))} | " + " | ".join(labels) + " |")
        out.append("|---|" + "---|" * len(labels))
        for row in result.machines["identity"]:
            values = " | ".join(md(str(v)) for v in row["values"])
            out.append(f"| {md(row['field'])} | {values} |")
    else:
        out.append(md(_("No hardware or software differences.")))
    out += ["", md(family_sentence(result))]
    for index, rows in result.rows.items():
        out += ["", f"## {labels[index]}", ""]
        out.append(
            md(
                drift_sentence(
                    result.drift[index],
                    result.runs[result.baseline].label,
                    result.runs[index].label,
                )
            )
        )
        if rules := rules_sentence(rows, result.drift[index], result.left_out(index)):
            out += ["", md(rules)]
        if hint := more_workers(rows):
            out += ["", f"{md(hint[0])}`{MORE_WORKERS_OPTION}`{md(hint[1])}"]
        out.append("")
        out.append("| " + " | ".join(md(h) for h in header()) + " |")
        out.append("|---|---|" + "---:|" * 8 + "---|")
        for r in table_rows(rows):
            out.append("| " + " | ".join(md(cell) for cell in r) + " |")
        lines = reasons(rows)
        if lines:
            out.append("")
            out += [f"- {md(line)}" for line in lines]
    if result.only_in_some:
        out += ["", md(_("Only in some runs: ") + _("; ").join(result.only_in_some))]
    if result.busy:
        out += ["", md(_("Busy machine: ") + _("; ").join(busy_lines(result)))]
    out += ["", md(how_to_read())]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# HTML / PDF


def _ratio_plot(rows: list[Row], drift: Drift) -> str | None:
    usable = [r for r in rows if r.comparison.interval and r.comparison.ratio is not None]
    if not usable:
        return None
    return plots_factors.ratio_dots(
        [f"{r.experiment}: {r.name}" for r in usable],
        [r.comparison.ratio for r in usable if r.comparison.ratio is not None],
        [r.comparison.interval for r in usable if r.comparison.interval],
        bands=[drift.allowance_for(r.metric) for r in usable],
    )


def html(result: DiffResult, context_extra: dict[str, Any] | None = None) -> str:
    labels = [_label(result, i) for i in range(len(result.runs))]
    blocks = []
    for index, rows in result.rows.items():
        tally = counts(rows)
        blocks.append(
            {
                "label": labels[index],
                "drift": drift_sentence(
                    result.drift[index],
                    result.runs[result.baseline].label,
                    result.runs[index].label,
                ),
                "rules": rules_sentence(rows, result.drift[index], result.left_out(index)),
                "more_workers": more_workers(rows),
                "more_workers_option": MORE_WORKERS_OPTION,
                "rows": table_rows(rows),
                "plot": _ratio_plot(rows, result.drift[index]),
                "slower": tally[SLOWER],
                "faster": tally[FASTER],
                "noise": tally[WITHIN_NOISE],
                "drifted": tally[WITHIN_DRIFT],
                "cannot": tally[CANNOT_TELL],
                "reasons": reasons(rows),
            }
        )
    context = {
        "title": _("Comparison against {run}").format(run=labels[result.baseline]),
        "labels": labels,
        "baseline": labels[result.baseline],
        "machines": result.machines,
        "blocks": blocks,
        "header": header(),
        "family": family_sentence(result),
        "warnings": warnings(result),
        "only_in_some": result.only_in_some,
        "config_differences": result.config_differences,
        "extras": side_by_side(
            [(label, run.experiments) for label, run in zip(labels, result.runs, strict=True)]
        ),
        "busy": busy_lines(result),
        "how_to_read": how_to_read(),
        "every_s": drift_module.spacing(
            document for run in result.runs for document in run.experiments.values()
        ),
        "html_lang": i18n.HTML_LANG[i18n.language()],
        "font_css": FONT_MARKER,
        **(context_extra or {}),
    }
    return embed_fonts(jinja_environment().get_template("diff.html.j2").render(context))
