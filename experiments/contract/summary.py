"""Summaries of repeated measurements (standard library only, like the format).

Medians and quartiles rather than means: a timing distribution has a hard floor
and a long tail (another process, a page fault), so the median is what a
rerun reproduces and the IQR is what "noise" means. The coefficient of
variation flags a measurement too noisy to compare.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

# A measurement whose spread is above this share of its mean is flagged.
NOISE_CV = 0.05

# The other processes' average CPU use (in cores) above which a machine is flagged as busy
# while it was measured.
BUSY_OTHER_CORES = 0.3


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Median, quartiles, IQR, min, max, mean, sample stdev, CV and the noise flag."""
    data = [float(v) for v in values]
    n = len(data)
    if n == 0:
        return {
            "n": 0,
            "median": None,
            "q1": None,
            "q3": None,
            "iqr": None,
            "min": None,
            "max": None,
            "mean": None,
            "stdev": None,
            "cv": None,
            "noisy": False,
        }
    median = statistics.median(data)
    if n >= 2:
        q1, _, q3 = statistics.quantiles(data, n=4, method="inclusive")
        stdev: float | None = statistics.stdev(data)
    else:
        q1 = q3 = data[0]
        stdev = None
    mean = statistics.fmean(data)
    cv = stdev / mean if stdev is not None and mean > 0 else None
    return {
        "n": n,
        "median": median,
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "min": min(data),
        "max": max(data),
        "mean": mean,
        "stdev": stdev,
        "cv": cv,
        "noisy": cv is not None and cv > NOISE_CV,
    }
