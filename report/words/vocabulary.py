"""Words for the identifiers that result files hold.

Result files store identifiers and numbers (a variant `manual`, a data source
`{"kind": "mnist_files", "path": "~/data"}`, a reason `{"code": "too_slow",
…}`); this module is the one place that turns each into a sentence in the
reader's language. Every message is marked with N_ so the catalogue tools
find it, and translated when it is shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from experiments.contract.declaration import N_
from report.words.formatting import duration
from report.words.i18n import _, language

DATA_SOURCES = {
    "synthetic": N_("synthetic tensors of the input shape and dtype"),
    "iris": N_("scikit-learn's Iris"),
    "digits": N_("scikit-learn's 8×8 digits"),
    "mnist_files": N_("MNIST from {path}"),
    "cifar10_files": N_("CIFAR-10 from {path}"),
    "unknown": N_("not recorded"),
}

# Why a variant, a mode or an experiment did not run.
REASONS = {
    "needs_cuda": N_("CUDA graphs need a CUDA device"),
    "too_slow": N_(
        "too slow on this device: one step took {step}, so its runs would take about "
        "{projected} (limit {limit})"
    ),
    "no_cuda_device": N_("no CUDA device"),
    "cpu_only": N_("this rung runs on the CPU only"),
    "no_compiler": N_("not run: no C++ compiler"),
}

# The notes' reading of the last two digits of a GeForce name (002).
GEFORCE_TIERS = {
    "90": N_("flagship"),
    "80": N_("high end"),
    "70": N_("sweet spot"),
    "60": N_("mainstream"),
    "50": N_("entry"),
}

CPU_LINES = {
    "intel_core": N_("Intel Core {ordinal} generation, {tier} tier"),
    "intel_core_ultra": N_("Intel Core Ultra series {generation}, Ultra {tier} tier"),
    "ryzen": N_("Ryzen {generation} series, Ryzen {tier} tier"),
    "apple": N_("Apple {generation} generation {tier}"),
}

UNAVAILABLE_SOURCES = {
    "gpu": N_("GPU"),
    "nvml": N_("NVML (nvidia-ml-py)"),
    "cpu_details": N_("CPU details (py-cpuinfo)"),
    "cpu_frequency": N_("CPU frequency"),
    "cpu_caches": N_("CPU caches"),
    "other": N_("other"),
}

UNAVAILABLE_CODES = {
    "torch_cpu_build": N_("torch has no CUDA support (CPU build)"),
    "no_cuda_device": N_("torch is a CUDA build but no CUDA device is visible"),
    "not_reported": N_("not reported by the operating system"),
    "not_linux": N_("/sys/devices/system/cpu not present (not Linux)"),
}


STATUSES = {
    "ok": N_("ok"),
    "skipped": N_("skipped"),
    "failed": N_("failed"),
    "not run": N_("not run"),
    "unsupported": N_("unsupported"),
    "unreadable": N_("unreadable"),
    "complete": N_("complete"),
    "incomplete": N_("incomplete"),
    "running": N_("running"),
    "pending": N_("pending"),
}

PROFILES = {
    "default": N_("default profile"),
    "quick": N_("quick profile"),
    "smoke": N_("smoke profile"),
}

LANGUAGE_NAMES = {"en": N_("English"), "zh": N_("Simplified Chinese")}


def lookup(table: dict[str, str], key: str) -> str:
    """The translated word for `key`, or the identifier itself where this version of the
    report has no word for it (a newer tool's identifier reads as itself, not as a blank)."""
    message = table.get(key)
    return _(message) if message else key


def status(name: str) -> str:
    return lookup(STATUSES, name)


def profile(name: str) -> str:
    return lookup(PROFILES, name)


def language_name(code: str) -> str:
    return lookup(LANGUAGE_NAMES, code)


def data_source(source: dict[str, Any]) -> str:
    return lookup(DATA_SOURCES, source["kind"]).format(path=source.get("path") or "?")


def known(code: str) -> bool:
    """Whether a stored reason is one of the report's codes (else it is an error's text)."""
    return code in REASONS


def reason(record: dict[str, Any] | str | None) -> str:
    """A reason record ({code, error, …}) or a stored reason string, as one sentence."""
    if record is None:
        return ""
    if isinstance(record, str):
        return lookup(REASONS, record)
    if record["code"] == "error":
        return str(record.get("error") or "")
    text = lookup(REASONS, record["code"])
    return text.format(
        step=duration(record.get("step_s")),
        projected=duration(record.get("projected_s")),
        limit=duration(record.get("limit_s")),
    )


def geforce_tier(tier: str) -> str | None:
    message = GEFORCE_TIERS.get(tier)
    return _(message) if message else None


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def cpu_generation(generation: dict[str, Any]) -> str:
    number = generation["generation"]
    text = lookup(CPU_LINES, generation["line"]).format(
        generation=number,
        # "12th" in English; other languages put the number in their own words ("第 12 代")
        ordinal=_ordinal(number) if isinstance(number, int) and language() == "en" else number,
        tier=generation.get("tier") or "",
    )
    return text.strip()


def unavailable_reason(entry: dict[str, Any]) -> str:
    """Why a source of machine facts could not be read (the error itself if unexpected)."""
    code = entry.get("code")
    if code and code != "error":
        return lookup(UNAVAILABLE_CODES, code)
    return str(entry.get("detail") or code or "")


def unavailable(entry: dict[str, Any]) -> str:
    return f"{lookup(UNAVAILABLE_SOURCES, entry['source'])}: {unavailable_reason(entry)}"


def model_layers(widths: Sequence[int]) -> str:
    """An MLP's layers as code: Linear(4, 10) -> ReLU -> Linear(10, 3)."""
    layers = [f"Linear({a}, {b})" for a, b in itertools.pairwise(widths)]
    return " -> ReLU -> ".join(layers)
