"""How numbers read in the report: every figure with its unit, never "nan".

These are the Jinja filters; templates only place what they return. A missing
value reads "—" so an unmeasured field is visible as such rather than as 0.
A number and its unit are joined by a non-breaking space, so a line never
ends between them. A measured number carries no more digits than its noise
supports: given its coefficient of variation, the last digit shown is the
first one the spread leaves uncertain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from report.words.i18n import _

MISSING = "—"
NBSP = "\u00a0"
DEFAULT_DIGITS = 3


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def noise_digits(value: float | None, cv: float | None, default: int = DEFAULT_DIGITS) -> int:
    """Significant digits a value supports when its repeats spread by `cv` (stdev ÷ mean):
    round the spread to one digit and the value to the same place, between 2 and 4 digits.
    CV 9.6 % of 289,074 → spread ≈ 28,000 → 2 digits: 290,000."""
    if _missing(value) or _missing(cv) or not cv or not value:
        return default
    assert value is not None and cv is not None
    spread = abs(cv * value)
    digits = math.floor(math.log10(abs(value))) - math.floor(math.log10(spread)) + 1
    return max(2, min(4, digits))


def significant(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """A number to `digits` significant figures, without scientific notation, halves rounded
    away from zero as a reader expects (142.5 → 143; Python's round() would give 142)."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    places = digits - 1 - magnitude
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{rounded:,.{max(0, places)}f}"


def duration(seconds: float | None, digits: int = DEFAULT_DIGITS, cv: float | None = None) -> str:
    """Seconds in the unit a person reads best: s, ms, µs or ns."""
    if _missing(seconds):
        return MISSING
    assert seconds is not None
    if cv is not None:
        digits = noise_digits(seconds, cv, digits)
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{significant(seconds / scale, digits)}{NBSP}{unit}"
    return f"{significant(seconds / 1e-9, digits)}{NBSP}ns"


def byte_size(value: float | None) -> str:
    """Bytes in binary units (KiB = 1024 B), exact below 1 KiB."""
    if _missing(value):
        return MISSING
    assert value is not None
    if abs(value) < 1024:
        return f"{int(value)}{NBSP}B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if abs(value) < 1024 or unit == "TiB":
            return f"{significant(value)}{NBSP}{unit}"
    raise AssertionError("unreachable")


def percent(fraction: float | None, digits: int = 2) -> str:
    if _missing(fraction):
        return MISSING
    assert fraction is not None
    shown = significant(fraction * 100, digits)
    # 99.96 % is not "100.0 %": a share short of the whole keeps the digits that say so
    while fraction < 1 and float(shown.replace(",", "")) >= 100 and digits < 6:
        digits += 1
        shown = significant(fraction * 100, digits)
    return f"{shown}{NBSP}%"


def points(fraction: float | None, digits: int = 2) -> str:
    """A difference of two percentages, in percentage points."""
    if _missing(fraction):
        return MISSING
    assert fraction is not None
    return _("{value} percentage points").format(value=significant(fraction * 100, digits))


def ratio(value: float | None, digits: int = DEFAULT_DIGITS) -> str:
    """A factor such as "2.15×"."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{significant(value, digits)}×"


def versus(speedup: float | None) -> str:
    """A speed-up (baseline time ÷ this time) as "2.00× faster" or "1.50× slower"."""
    if _missing(speedup) or speedup == 0:
        return MISSING
    assert speedup is not None
    if speedup >= 1:
        return _("{factor} faster").format(factor=ratio(speedup))
    return _("{factor} slower").format(factor=ratio(1 / speedup))


def gflops(flop_per_s: float | None, digits: int = DEFAULT_DIGITS) -> str:
    """A rate in GFLOP/s."""
    if _missing(flop_per_s):
        return MISSING
    assert flop_per_s is not None
    return f"{significant(flop_per_s / 1e9, digits)}{NBSP}GFLOP/s"


def number(value: float | None, digits: int = 4, cv: float | None = None) -> str:
    """A count exactly (whole floats too: 31.0 operators are 31), any other number to
    `digits` significant figures or to what its noise (`cv`) supports."""
    if _missing(value):
        return MISSING
    assert value is not None
    if cv is not None:
        return significant(value, noise_digits(value, cv, digits))
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return significant(value, digits)


def approx(value: float | None, digits: int = DEFAULT_DIGITS) -> str:
    """A large estimate to `digits` significant figures, marked as approximate."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"≈{NBSP}{significant(value, digits)}"


def flops(value: float | None) -> str:
    """FLOP counts with SI prefixes (k, M, G, T)."""
    if _missing(value):
        return MISSING
    assert value is not None
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{significant(value / scale)}{NBSP}{unit}FLOP"
    return f"{int(value)}{NBSP}FLOP"


def frequency(mhz: float | None) -> str:
    if _missing(mhz):
        return MISSING
    assert mhz is not None
    if mhz >= 1000:
        return f"{significant(mhz / 1000)}{NBSP}GHz"
    return f"{significant(mhz)}{NBSP}MHz"


def with_unit(value: float | None, unit: str, digits: int = DEFAULT_DIGITS) -> str:
    """Any number and a unit symbol (W, °C, samples/s), joined so they never break apart."""
    if _missing(value):
        return MISSING
    assert value is not None
    return f"{number(value, digits)}{NBSP}{unit}"


def yes_no(value: bool | None) -> str:
    if value is None:
        return MISSING
    return _("yes") if value else _("no")


def listing(items: Any) -> str:
    """Items in a sentence: "16, 32, 64" in English, "16、32、64" in Chinese."""
    return _(", ").join(str(item) for item in items)


def paren(text: Any) -> str:
    """An aside in parentheses of the report's language: ASCII ones in English, full-width
    ones in Chinese (a half-width parenthesis beside Hanzi looks like a typo)."""
    return _("({text})").format(text=text)


def aside(text: Any) -> str:
    """`paren` appended to what precedes it: " (…)" in English, "（…）" with no space in
    Chinese."""
    return _(" ({text})").format(text=text)


def lead(label: Any) -> str:
    """A label that introduces what follows on the line: "Status: " / "状态：" (a full-width
    colon carries its own space)."""
    return _("{label}: ").format(label=label)


FILTERS: dict[str, Callable[..., str]] = {
    "lead": lead,
    "listing": listing,
    "paren": paren,
    "aside": aside,
    "duration": duration,
    "bytes": byte_size,
    "percent": percent,
    "points": points,
    "ratio": ratio,
    "versus": versus,
    "gflops": gflops,
    "number": number,
    "approx": approx,
    "flops": flops,
    "frequency": frequency,
    "unit": with_unit,
    "yes_no": yes_no,
}
