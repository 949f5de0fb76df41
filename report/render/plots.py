"""Deterministic SVG plots, readable in greyscale print.

Same input, same bytes: fixed rcParams, a fixed SVG hash salt, no date in the
metadata, text drawn as paths (so no viewer substitutes a font). Devices are
told apart by line style and marker, not only by colour. Plots are embedded as
`<img>` data URIs: WeasyPrint draws those without the property warnings that
inline matplotlib SVG gives.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, NullFormatter

from report.outputs import fonts
from report.words.formatting import duration, number, percent
from report.words.i18n import _

RC: dict[str, Any] = {
    "svg.hashsalt": "gpu-study-report",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.grid": True,
    "grid.color": "#d0d0d0",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "figure.dpi": 100,
    "path.simplify": True,
    # a "$" in a label (a machine's, a device's) is a dollar sign, not mathematics
    "text.parse_math": False,
}

# Distinguishable in greyscale: darkness, dash pattern and marker all differ.
STYLES = (
    {"color": "#1b1b1b", "linestyle": "-", "marker": "o"},
    {"color": "#5a5a5a", "linestyle": "--", "marker": "s"},
    {"color": "#8a8a8a", "linestyle": ":", "marker": "^"},
    {"color": "#3d3d3d", "linestyle": "-.", "marker": "D"},
)


def _label_log_axis(axes: Axes, values: Sequence[float]) -> None:
    """Durations on a log y axis; within one decade there is no major tick, so label minors."""
    as_duration = FuncFormatter(lambda value, _pos: duration(value, 2))
    axes.yaxis.set_major_formatter(as_duration)
    narrow = bool(values) and max(values) < 10 * min(values)
    axes.yaxis.set_minor_formatter(as_duration if narrow else NullFormatter())


def chart_style() -> AbstractContextManager[None]:
    """The fixed rcParams, for one figure; CJK labels fall back to the shipped font."""
    params = {**RC, "font.family": list(fonts.matplotlib_families())}
    return plt.rc_context(params)  # type: ignore[arg-type]  # matplotlib types keys as literals


BYTE_UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024), ("B", 1))


def byte_unit(largest: float) -> tuple[str, int]:
    """The binary unit an axis of byte counts reads best in (its ticks are then round in it)."""
    return next((u, s) for u, s in BYTE_UNITS if largest >= s)


def style(index: int) -> dict[str, str]:
    return STYLES[index % len(STYLES)]


@dataclass(frozen=True)
class Series:
    """One device's line: x values, y values and, optionally, a y spread (low, high)."""

    label: str
    x: Sequence[float]
    y: Sequence[float | None]
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None


def to_data_uri(figure: Figure) -> str:
    for text in figure.findobj(Text):
        text.set_text(fonts.drawable(text.get_text()))
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # a glyph no font has is drawn as "?" (fonts.drawable)
        warnings.simplefilter("ignore", UserWarning)
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def loss_curves(
    series: Sequence[Series], reference: Sequence[tuple[float, float]], reference_label: str
) -> str:
    """Training loss against epoch, one line per device, the notes' printed values as crosses."""
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 3.0))
        for index, line in enumerate(series):
            points = [(x, y) for x, y in zip(line.x, line.y, strict=True) if y is not None]
            st = style(index)
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                color=st["color"],
                linestyle=st["linestyle"],
                label=line.label,
            )
        if reference:
            axes.plot(
                [r[0] for r in reference],
                [r[1] for r in reference],
                linestyle="none",
                marker="x",
                markersize=7,
                color="#000000",
                label=reference_label,
            )
        axes.set_xlabel(_("epoch"))
        axes.set_ylabel(_("training loss (cross-entropy)"))
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
        return to_data_uri(figure)


@dataclass(frozen=True)
class TimingRow:
    """A row of the timing chart: measured repeats, or one published figure."""

    label: str
    values: Sequence[float]
    published: bool = False


def timing_rows(
    rows: Sequence[TimingRow], unit_label: str, reference: tuple[float, str] | None = None
) -> str:
    """Horizontal chart: measured repeats as dots with the median marked, published values as
    hatched bars. The eye compares medians; the dots show whether a gap exceeds the spread."""
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 0.5 + 0.42 * len(rows)))
        for position, row in enumerate(reversed(rows)):
            if row.published:
                axes.barh(
                    position,
                    row.values[0],
                    height=0.5,
                    color="white",
                    edgecolor="#555555",
                    hatch="///",
                    linewidth=0.8,
                )
            else:
                ordered = sorted(row.values)
                median = (
                    ordered[len(ordered) // 2]
                    if len(ordered) % 2
                    else ((ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2)
                )
                axes.barh(
                    position,
                    median,
                    height=0.5,
                    color="#bdbdbd",
                    edgecolor="#1b1b1b",
                    linewidth=0.8,
                )
                axes.plot(
                    row.values,
                    [position] * len(row.values),
                    linestyle="none",
                    marker="o",
                    markersize=3.5,
                    color="#000000",
                )
        if reference is not None:
            axes.axvline(
                reference[0],
                color="#000000",
                linestyle=(0, (4, 2)),
                linewidth=1.0,
                label=reference[1],
            )
            axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
        axes.set_yticks(range(len(rows)), [r.label for r in reversed(rows)])
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: duration(value, 2)))
        axes.set_xlabel(unit_label)
        axes.set_xlim(left=0)
        axes.grid(axis="y", visible=False)
        return to_data_uri(figure)


def step_time_sweep(series: Sequence[Series], x_label: str, y_label: str) -> str:
    """Log-log time per step against problem size, with the repeats' spread as error bars."""
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 3.2))
        for index, line in enumerate(series):
            st = style(index)
            ys = [y if y is not None else float("nan") for y in line.y]
            if line.low is not None and line.high is not None:
                below = [y - lo for y, lo in zip(ys, line.low, strict=True)]
                above = [hi - y for y, hi in zip(ys, line.high, strict=True)]
                axes.errorbar(
                    line.x,
                    ys,
                    yerr=[below, above],
                    capsize=3,
                    label=line.label,
                    color=st["color"],
                    linestyle=st["linestyle"],
                    marker=st["marker"],
                    markersize=4,
                )
            else:
                axes.plot(
                    line.x,
                    ys,
                    label=line.label,
                    color=st["color"],
                    linestyle=st["linestyle"],
                    marker=st["marker"],
                    markersize=4,
                )
        axes.set_xscale("log", base=2)
        axes.set_yscale("log")
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        _label_log_axis(axes, [y for line in series for y in line.y if y is not None])
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.legend(loc="upper left", frameon=False)
        return to_data_uri(figure)


@dataclass(frozen=True)
class CountSeries:
    """Timed repeats at several counts, a fitted line through them, and a floor to compare."""

    label: str
    counts: Sequence[float]
    seconds: Sequence[float]
    fit: tuple[float, float] | None  # (intercept, slope)
    floor: float | None  # a reference time drawn as a horizontal line


def time_against_count(series: Sequence[CountSeries], x_label: str, floor_label: str) -> str:
    """Each repeat as a point, the least-squares line through them, the floor dashed."""
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 3.2))
        for index, group in enumerate(series):
            st = style(index)
            axes.plot(
                group.counts,
                group.seconds,
                linestyle="none",
                marker=st["marker"],
                markersize=4,
                color=st["color"],
                label=_("{device}: repeats").format(device=group.label),
            )
            if group.fit is not None:
                low, high = min(group.counts), max(group.counts)
                xs = [low * (high / low) ** (i / 50) for i in range(51)]  # even on a log axis
                axes.plot(
                    xs,
                    [group.fit[0] + group.fit[1] * x for x in xs],
                    color=st["color"],
                    linestyle=st["linestyle"],
                    linewidth=1.0,
                    label=_("{device}: fit").format(device=group.label),
                )
            if group.floor is not None:
                axes.axhline(
                    group.floor,
                    color=st["color"],
                    linestyle=(0, (1, 3)),
                    linewidth=1.0,
                    label=_("{device}: {what}").format(device=group.label, what=floor_label),
                )
        axes.set_xscale("log")
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: duration(value, 3)))
        axes.set_xlabel(x_label)
        axes.set_ylabel(_("time for the whole loop"))
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
        return to_data_uri(figure)


HATCHES = ("", "///", "---", "xxx", "\\\\\\", "+++")  # dots and rings cost 150-300 KB of SVG each
FILLS = ("#1b1b1b", "#ffffff", "#d0d0d0", "#ffffff", "#8a8a8a", "#ffffff")


def stacked_bars(
    categories: Sequence[str],
    parts: Sequence[str],
    byte_counts: Sequence[Sequence[float]],
    label: str,
) -> str:
    """One horizontal bar per category, split into parts told apart by fill and hatch; bytes
    shown in the one binary unit that suits the largest bar."""
    unit, scale = byte_unit(max((sum(row) for row in byte_counts), default=1.0))
    values = [[v / scale for v in row] for row in byte_counts]
    unit_label = f"{label} ({unit})"
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 0.8 + 0.3 * len(categories)))
        positions = list(range(len(categories)))[::-1]
        left = [0.0] * len(categories)
        for index, part in enumerate(parts):
            widths = [row[index] for row in values]
            axes.barh(
                positions,
                widths,
                left=left,
                height=0.6,
                label=part,
                color=FILLS[index % len(FILLS)],
                hatch=HATCHES[index % len(HATCHES)],
                edgecolor="#1b1b1b",
                linewidth=0.6,
            )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axes.set_yticks(positions, list(categories))
        axes.set_xlabel(unit_label)
        axes.grid(axis="y", visible=False)
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
        return to_data_uri(figure)


def lines(
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    y_format: str = "number",
    log_y: bool = False,
) -> str:
    """Plain lines with markers on a log-2 x axis (batch sizes); y as numbers, bytes or %."""
    formats: dict[str, Callable[[float], str]] = {
        "number": lambda v: number(v, 3),
        "bytes": lambda v: number(v, 3),
        "percent": lambda v: percent(v, 2),
    }
    scale = 1
    if y_format == "bytes":  # plot in one unit, so matplotlib's ticks are round in it
        top = max((y for line in series for y in line.y if y is not None), default=1.0)
        unit, scale = byte_unit(top)
        y_label = f"{y_label} ({unit})"
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 3.0))
        for index, line in enumerate(series):
            st = style(index)
            axes.plot(
                line.x,
                [y / scale if y is not None else float("nan") for y in line.y],
                label=line.label,
                color=st["color"],
                linestyle=st["linestyle"],
                marker=st["marker"],
                markersize=4,
            )
        axes.set_xscale("log", base=2)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
        if log_y:
            axes.set_yscale("log")
            axes.yaxis.set_minor_formatter(NullFormatter())
        render_y = formats[y_format]

        def y_tick(value: float, _pos: object) -> str:
            return render_y(value)

        axes.yaxis.set_major_formatter(FuncFormatter(y_tick))
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.legend(loc="best", frameon=False)
        return to_data_uri(figure)
