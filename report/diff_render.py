"""The comparison as a terminal table, Markdown for notes, and HTML/PDF."""

from __future__ import annotations

from typing import Any

from report import i18n, plots
from report.diff import DiffResult, Row
from report.escaping import markdown_text, terminal_text
from report.formatting import duration, ratio
from report.render import FONT_MARKER, embed_fonts
from report.render import environment as jinja_environment

VERDICT_MARK = {
    "slower": "SLOWER",
    "faster": "faster",
    "within noise": "≈",
    "insufficient data": "?",
}


def _interval(row: Row) -> str:
    interval = row.comparison.interval
    return f"{ratio(interval[0])}–{ratio(interval[1])}" if interval else "—"


def _p(row: Row) -> str:
    return "—" if row.comparison.p_value is None else f"{row.comparison.p_value:.3g}"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def table_rows(rows: list[Row]) -> list[list[str]]:
    return [
        [
            row.experiment,
            row.name,
            duration(_median(row.baseline)),
            duration(_median(row.other)),
            ratio(row.comparison.ratio),
            _interval(row),
            _p(row),
            VERDICT_MARK[row.comparison.verdict],
        ]
        for row in rows
    ]


HEADER = ["experiment", "metric", "baseline", "this run", "ratio", "95 % interval", "p", "verdict"]


def terminal(result: DiffResult) -> str:
    base = result.runs[result.baseline]
    lines = [f"baseline: {base.label} / {base.run_id}"]
    lines += _machine_lines(result)
    for index, rows in result.rows.items():
        run = result.runs[index]
        lines.append("")
        lines.append(f"{run.label} / {run.run_id} against the baseline:")
        table = [HEADER, *table_rows(rows)]
        widths = [max(len(r[c]) for r in table) for c in range(len(HEADER))]
        for r in table:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
    for item in result.only_in_some:
        lines.append(f"only in some runs: {item}")
    for item in result.busy:
        lines.append(f"busy machine: {item}")
    # every line carries text from result files: no control character reaches the terminal
    return "\n".join(terminal_text(line) for line in lines)


def _machine_lines(result: DiffResult) -> list[str]:
    rows = result.machines["identity"]
    if not rows:
        return ["machines: no hardware or software differences"]
    lines = ["machine differences (hardware and software):"]
    for row in rows:
        lines.append(f"  {row['field']}: " + " | ".join(str(v) for v in row["values"]))
    return lines


def markdown(result: DiffResult) -> str:
    base = result.runs[result.baseline]
    md = markdown_text
    out = [f"# Comparison against {md(base.label)} / {md(base.run_id)}", ""]
    labels = [f"{md(r.label)} / {md(r.run_id)}" for r in result.runs]
    out += ["## Machines", ""]
    if result.machines["identity"]:
        out.append("| field | " + " | ".join(labels) + " |")
        out.append("|---|" + "---|" * len(labels))
        for row in result.machines["identity"]:
            values = " | ".join(md(str(v)) for v in row["values"])
            out.append(f"| {md(row['field'])} | {values} |")
    else:
        out.append("No hardware or software differences.")
    for index, rows in result.rows.items():
        out += ["", f"## {labels[index]}", ""]
        out.append("| " + " | ".join(HEADER) + " |")
        out.append("|---|---|" + "---:|" * 5 + "---|")
        for r in table_rows(rows):
            out.append("| " + " | ".join(md(cell) for cell in r) + " |")
    if result.only_in_some:
        out += ["", "Only in some runs: " + "; ".join(md(i) for i in result.only_in_some)]
    if result.busy:
        out += ["", "Busy machine: " + "; ".join(md(i) for i in result.busy)]
    out += [
        "",
        "Verdict: SLOWER/faster only when the Mann–Whitney U test on the raw repeats "
        "(p below α) and the ratio of medians (beyond the minimum) agree; ≈ within noise; "
        "? too few repeats to tell.",
    ]
    return "\n".join(out) + "\n"


def _ratio_plot(rows: list[Row]) -> str | None:
    usable = [r for r in rows if r.comparison.interval]
    if not usable:
        return None
    return plots.ratio_dots(
        [f"{r.experiment}: {r.name}" for r in usable],
        [r.comparison.ratio for r in usable],
        [r.comparison.interval for r in usable if r.comparison.interval],
    )


def _loss_plot(result: DiffResult, labels: list[str]) -> str | None:
    """The CPU's Iris loss curve of every run that has one, overlaid."""
    series = []
    for label, run in zip(labels, result.runs, strict=True):
        document = run.experiments.get("cpu_vs_gpu")
        if not document or document["status"] != "ok":
            continue
        entry = document["data"]["iris"]["per_device"][0]
        every = entry["curve_every"]
        series.append(
            plots.Series(
                label, [(i + 1) * every for i in range(len(entry["curve"]))], entry["curve"]
            )
        )
    return plots.loss_curves(series, [], "") if len(series) > 1 else None


def _memory_table(result: DiffResult) -> list[dict[str, Any]]:
    """Total bytes of each memory_breakdown entry, run by run (deterministic: no statistics)."""
    totals: dict[str, list[int | None]] = {}
    for index, run in enumerate(result.runs):
        document = run.experiments.get("memory_breakdown")
        if not document or document["status"] != "ok":
            continue
        for e in document["data"]["per_device"][0]["entries"]:
            key = f"{e['model']} · {e['optimizer']} · batch {e['batch']} · {e['precision']}"
            totals.setdefault(key, [None] * len(result.runs))[index] = sum(e["measured"].values())
    return [{"key": key, "values": values} for key, values in totals.items()]


def html(result: DiffResult, context_extra: dict[str, Any] | None = None) -> str:
    labels = [f"{r.label} / {r.run_id}" for r in result.runs]
    blocks = []
    for index, rows in result.rows.items():
        blocks.append(
            {
                "label": labels[index],
                "rows": table_rows(rows),
                "plot": _ratio_plot(rows),
                "counts": {
                    v: sum(1 for r in rows if r.comparison.verdict == v) for v in VERDICT_MARK
                },
            }
        )
    context = {
        "title": f"Comparison against {labels[result.baseline]}",
        "labels": labels,
        "baseline": labels[result.baseline],
        "machines": result.machines,
        "blocks": blocks,
        "header": HEADER,
        "only_in_some": result.only_in_some,
        "config_differences": result.config_differences,
        "loss_plot": _loss_plot(result, labels),
        "memory": _memory_table(result),
        "busy": result.busy,
        "html_lang": i18n.HTML_LANG[i18n.language()],
        "font_css": FONT_MARKER,
        **(context_extra or {}),
    }
    return embed_fonts(jinja_environment().get_template("diff.html.j2").render(context))
