"""Charts of many machines at once, for the class view: each machine a mark, yours marked.

A class may hold 5 machines or 200, so nothing here grows a row per machine: the
machines stand side by side along an axis (named when there are few, ranked when
there are many), and the reader's own machine (`--mine`) is drawn apart and named in
the legend. The shared style and the deterministic SVG come from `plots`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from report.render.plots import chart_style, style, to_data_uri
from report.words.formatting import byte_size, duration, flops
from report.words.i18n import _

# Up to this many machines, each is named under the axis; beyond, only ranks are shown.
NAMED_MACHINES = 30
MINE: dict[str, Any] = {"color": "#000000", "marker": "*", "markersize": 11}


def _formatter(unit: str) -> FuncFormatter:
    if unit == "duration":
        return FuncFormatter(lambda value, _pos: duration(value, 2))
    if unit == "flops":
        return FuncFormatter(lambda value, _pos: f"{flops(value)}/s")
    if unit == "ratio":
        return FuncFormatter(lambda value, _pos: f"{value:.3g}×")
    return FuncFormatter(lambda value, _pos: f"{value:g}")


def _unit_axis(axes: Axes, which: str, unit: str, values: Sequence[float]) -> None:
    """A log axis labelled in the unit: bytes at powers of 4 of a binary unit (1 KiB, 4 KiB,
    16 KiB …); a narrow range (under 2.5×) at about four round values, one under 100× at
    1, 2 and 5 times the powers of ten, a wider one at the powers of ten alone."""
    axis = axes.xaxis if which == "x" else axes.yaxis
    if unit == "bytes":
        axis.set_major_locator(LogLocator(base=1024, subs=(1.0, 4.0, 16.0, 64.0, 256.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _pos: byte_size(value)))
    else:
        spread = max(values) / min(values) if values and min(values) > 0 else 100.0
        if spread < 2.5:
            axis.set_major_locator(MaxNLocator(nbins=4))
        elif spread < 100:
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(_formatter(unit))
    axis.set_minor_formatter(NullFormatter())


def ranked_dots(
    machines: Sequence[str],
    values: Mapping[str, Sequence[float | None]],
    y_label: str,
    highlight: Sequence[bool],
    unit: str = "duration",
) -> str:
    """One column per machine in the given order, a marker per series (CPU, GPU) on a log
    axis; a machine without a value in a series has no marker there."""
    count = len(machines)
    named = count <= NAMED_MACHINES
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 3.4 if named else 3.0))
        positions = list(range(count))
        drawn: list[float] = []
        for index, (label, series) in enumerate(values.items()):
            st = style(index)
            points = [(x, y) for x, y in zip(positions, series, strict=True) if y is not None]
            drawn += [y for _x, y in points]
            axes.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                linestyle="none",
                marker=st["marker"],
                color=st["color"],
                markersize=5,
                label=label,
            )
        mine = [i for i, flag in enumerate(highlight) if flag]
        for series in values.values():
            marked = [(i, y) for i in mine if (y := series[i]) is not None]
            if marked:
                axes.plot(
                    [m[0] for m in marked],
                    [m[1] for m in marked],
                    linestyle="none",
                    fillstyle="none",
                    **MINE,
                    label=_("yours") if series is next(iter(values.values())) else None,
                )
        axes.set_yscale("log")
        _unit_axis(axes, "y", unit, drawn)
        if named:
            axes.set_xticks(positions, list(machines), rotation=60, ha="right", fontsize=7)
        else:
            axes.set_xlabel(_("machines, ranked ({count})").format(count=count))
            axes.set_xticks([])
        axes.set_ylabel(y_label)
        axes.grid(axis="x", visible=False)
        axes.legend(loc="upper left", frameon=False, fontsize=7)
        return to_data_uri(figure)


@dataclass(frozen=True)
class Point:
    """One machine's (or one of its measurements') place in a scatter."""

    machine: str
    x: float
    y: float
    group: str  # what the marker tells apart (a tier, a precision, a device)
    mine: bool = False
    x_words: str = ""  # the x value in words, for a categorical axis


def scatter(
    points: Sequence[Point],
    x_label: str,
    y_label: str,
    *,
    x_unit: str = "",
    y_unit: str = "",
    diagonal: bool = False,
    categorical_x: bool = False,
) -> str:
    """Points on log axes (a categorical x keeps its own ticks), a marker per group, the
    reader's own machine ringed; `diagonal` draws y = x (prediction equals measurement)."""
    groups = sorted({p.group for p in points})
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 3.4))
        for index, group in enumerate(groups):
            st = style(index)
            mine = [p for p in points if p.group == group]
            axes.plot(
                [p.x for p in mine],
                [p.y for p in mine],
                linestyle="none",
                marker=st["marker"],
                color=st["color"],
                markersize=5,
                alpha=0.8,
                label=group,
            )
        own = [p for p in points if p.mine]
        if own:
            axes.plot(
                [p.x for p in own],
                [p.y for p in own],
                linestyle="none",
                fillstyle="none",
                **MINE,
                label=_("yours"),
            )
        xs, ys = [p.x for p in points], [p.y for p in points]
        if diagonal:
            low, high = min(*xs, *ys), max(*xs, *ys)
            axes.plot([low, high], [low, high], linestyle="--", color="#8a8a8a", linewidth=0.8)
        axes.set_yscale("log")
        _unit_axis(axes, "y", y_unit, ys)
        if categorical_x:
            ticks = {p.x: p.x_words for p in points}
            axes.set_xticks(sorted(ticks), [ticks[x] for x in sorted(ticks)], fontsize=7)
            axes.set_xlim(min(ticks) - 5, max(ticks) + 5)
        else:
            axes.set_xscale("log")
            _unit_axis(axes, "x", x_unit, xs)
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.legend(loc="best", frameon=False, fontsize=7)
        return to_data_uri(figure)
