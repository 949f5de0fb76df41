"""How numbers read in the report: every figure with its unit, never "nan".

These are the Jinja filters; templates only place what they return. A missing
value reads "—" so an unmeasured field is visible as such rather than as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

MISSING = "—"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def significant(value: float, digits: int = 3) -> str:
    """A number to `digits` significant figures, without scientific notation."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def duration(seconds: float | None, digits: int = 3) -> str:
    """Seconds in the unit a person reads best: s, ms, µs or ns."""
    if _missing(seconds):
        return MISSING
    assert seconds is not None
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{significant(seconds / scale, digits)} {unit}"
    return f"{significant(seconds / 1e-9, digits)} ns"


def byte_size(value: float | None) -> str:
    """Bytes in binary units (KiB = 1024 B), exact below 1 KiB."""
    if _missing(value):
        return MISSING
    assert value is not None
    if abs(value) < 1024:
        return f"{int(value)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if abs(value) < 1024 or unit == "TiB":
            return f"{significant(value)} {unit}"
    raise AssertionError("unreachable")


def percent(fraction: float | None, digits: int = 2) -> str:
    if _missing(fraction):
        return MISSING
    assert fraction is not None
    return f"{significant(fraction * 100, digits)} %"


def ratio(value: float | None) -> str:
    """A factor such as "2.15×"."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{significant(value)}×"


def versus(speedup: float | None) -> str:
    """A speed-up (baseline time ÷ this time) as "2.00× faster" or "1.50× slower"."""
    if _missing(speedup) or speedup == 0:
        return MISSING
    assert speedup is not None
    return f"{ratio(speedup)} faster" if speedup >= 1 else f"{ratio(1 / speedup)} slower"


def gflops(flop_per_s: float | None) -> str:
    """A rate in GFLOP/s."""
    if _missing(flop_per_s):
        return MISSING
    assert flop_per_s is not None
    return f"{significant(flop_per_s / 1e9)} GFLOP/s"


def number(value: float | None, digits: int = 4) -> str:
    if _missing(value):
        return MISSING
    assert value is not None
    if isinstance(value, int):
        return f"{value:,}"
    return significant(value, digits)


def flops(value: float | None) -> str:
    """FLOP counts with SI prefixes (k, M, G, T)."""
    if _missing(value):
        return MISSING
    assert value is not None
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{significant(value / scale)} {unit}FLOP"
    return f"{int(value)} FLOP"


def frequency(mhz: float | None) -> str:
    if _missing(mhz):
        return MISSING
    assert mhz is not None
    return f"{significant(mhz / 1000)} GHz" if mhz >= 1000 else f"{significant(mhz)} MHz"


def yes_no(value: bool | None) -> str:
    if value is None:
        return MISSING
    return "yes" if value else "no"


FILTERS: dict[str, Callable[..., str]] = {
    "duration": duration,
    "bytes": byte_size,
    "percent": percent,
    "ratio": ratio,
    "versus": versus,
    "gflops": gflops,
    "number": number,
    "flops": flops,
    "frequency": frequency,
    "yes_no": yes_no,
}
