"""Experiment settings that say their own allowed range, checked before anything runs.

An experiment's `Config` is a frozen dataclass deriving from `Settings`; each
field is declared with `setting(default, low=…, high=…)` (or a plain default
where any value of its type is fine). Creating a Config checks every field:
numbers finite and inside their range, tuples non-empty with every item in
range, choices among the allowed; then the experiment's own `check()` for
rules between fields. A bad `--set` therefore stops with one line before a
run folder exists, and so does a run.json whose settings no longer pass.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from typing import Any

# A seed for random, NumPy and torch alike (NumPy takes 0 … 2**32 - 1).
SEED: dict[str, Any] = {"low": 0, "high": 2**32 - 1}


def setting(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: Collection[str] | None = None,
    nonempty: bool = True,
) -> Any:
    """A dataclass field with its allowed values: low ≤ value ≤ high (strict where open),
    for a tuple every item; `choices` for strings or tuples of strings."""
    return dataclasses.field(
        default=default,
        metadata={
            "low": low,
            "high": high,
            "low_open": low_open,
            "high_open": high_open,
            "choices": tuple(choices) if choices is not None else None,
            "nonempty": nonempty,
        },
    )


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def _describe(meta: dict[str, Any]) -> str:
    low, high = meta.get("low"), meta.get("high")
    if low is not None and high is not None:
        left = "(" if meta.get("low_open") else "["
        right = ")" if meta.get("high_open") else "]"
        return f"in {left}{_number(low)}, {_number(high)}{right}"
    if low is not None:
        return f"{'>' if meta.get('low_open') else '>='} {_number(low)}"
    if high is not None:
        return f"{'<' if meta.get('high_open') else '<='} {_number(high)}"
    return "valid"


def _check_item(name: str, value: Any, meta: dict[str, Any]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, not {value!r}")
        low, high = meta.get("low"), meta.get("high")
        too_low = low is not None and (value <= low if meta.get("low_open") else value < low)
        too_high = high is not None and (value >= high if meta.get("high_open") else value > high)
        if too_low or too_high:
            raise ValueError(f"{name} must be {_describe(meta)}, got {value!r}")
    elif isinstance(value, str):
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            raise ValueError(f"{name}: {value!r} is not one of {list(choices)}")


class Settings:
    """Base of every experiment's Config: checks each field's range, then `check()`."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            meta = dict(field.metadata)
            if isinstance(value, tuple):
                if not value and meta.get("nonempty", True):
                    raise ValueError(f"{field.name} needs at least one value")
                for item in value:
                    _check_item(field.name, item, meta)
            else:
                _check_item(field.name, value, meta)
        self.check()

    def check(self) -> None:
        """Rules between fields (one experiment's own); raise ValueError naming them."""


def allowed(config_type: type[Any]) -> dict[str, str]:
    """Each setting's allowed values in words, for --list."""
    found = {}
    for field in dataclasses.fields(config_type):
        meta = dict(field.metadata)
        if meta.get("choices"):
            found[field.name] = "one of " + ", ".join(meta["choices"])
        elif meta.get("low") is not None or meta.get("high") is not None:
            found[field.name] = _describe(meta)
    return found
