"""Charts on a log axis of factors: the step ladder down to its floor, and the diff's ratios.

Both show how many times one time is another, so the axis is logarithmic and
every factor looks as large as it is; the shared style comes from `plots`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

from report.render.plots import chart_style, to_data_uri
from report.words.formatting import duration
from report.words.i18n import _


def ladder(
    labels: Sequence[str], medians: Sequence[float], floor: float, floor_label: str, x_label: str
) -> str:
    """The step's rungs from the notes' loop down to the arithmetic floor, on a log axis so
    that every factor looks as large as it is; each bar says how far above the floor it is."""
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 0.6 + 0.34 * (len(labels) + 1)))
        positions = list(range(len(labels), 0, -1))
        axes.barh(positions, medians, height=0.55, color="#bdbdbd", edgecolor="#1b1b1b", lw=0.8)
        axes.barh([0], [floor], height=0.55, color="#1b1b1b")
        for position, median in zip(positions, medians, strict=True):
            axes.text(
                median * 1.08,
                position,
                f"{duration(median, 2)} · {median / floor:,.0f}×",
                va="center",
                fontsize=7,
            )
        axes.text(floor * 1.08, 0, duration(floor, 2), va="center", fontsize=7)
        axes.set_xscale("log")
        axes.set_xlim(floor / 2, max(medians) * 6)
        axes.set_yticks([*positions, 0], [*labels, floor_label], fontsize=7)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: duration(value, 1)))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel(x_label)
        axes.grid(axis="y", visible=False)
        return to_data_uri(figure)


def ratio_dots(
    labels: Sequence[str],
    ratios: Sequence[float],
    intervals: Sequence[tuple[float, float]],
    bands: Sequence[float] | None = None,
) -> str:
    """Ratio to the baseline per metric, with its 95 % interval; 1 = no change (log scale).
    A shaded bar from 1/band to band behind each metric marks what the machines' own drift
    could explain for it (wider for timings on several cores)."""
    bands = list(bands) if bands is not None else [1.0] * len(labels)
    shaded = any(b > 1.0 for b in bands)
    with chart_style():
        figure, axes = plt.subplots(figsize=(6.4, 0.6 + 0.22 * len(labels)))
        positions = list(range(len(labels)))[::-1]
        if shaded:
            axes.barh(
                positions,
                [b - 1 / b for b in bands],
                left=[1 / b for b in bands],
                height=1.0,
                color="#e4e4e4",
                zorder=0,
                label=_("drift could explain"),
            )
        low = [r - i[0] for r, i in zip(ratios, intervals, strict=True)]
        high = [i[1] - r for r, i in zip(ratios, intervals, strict=True)]
        axes.errorbar(
            ratios,
            positions,
            xerr=[low, high],
            fmt="o",
            color="#1b1b1b",
            markersize=3,
            capsize=2,
            linewidth=0.8,
        )
        axes.axvline(1.0, color="#5a5a5a", linestyle="--", linewidth=0.8)
        axes.set_xscale("log")  # 2× slower and 2× faster lie equally far from 1×
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:.3g}×"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_yticks(positions, list(labels), fontsize=6)
        axes.set_xlabel(_("median time of this run ÷ baseline (right of 1× = slower)"))
        axes.grid(axis="y", visible=False)
        if shaded:
            axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=7)
        return to_data_uri(figure)
