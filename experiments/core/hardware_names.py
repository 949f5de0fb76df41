"""Reading hardware names the way the notes teach (knowledge points 1 and 2).

Pure functions over strings and numbers (no torch), so they are tested on
every machine with names of machines we do not have.
"""

from __future__ import annotations

import re
from typing import Any

# (compute capability major, minor) -> architecture. Minor versions not listed
# fall back to the major's entry.
_GPU_ARCHITECTURES: dict[tuple[int, int | None], str] = {
    (3, None): "Kepler",
    (5, None): "Maxwell",
    (6, None): "Pascal",
    (7, 0): "Volta",
    (7, 2): "Volta",
    (7, 5): "Turing",
    (8, 0): "Ampere",
    (8, 6): "Ampere",
    (8, 7): "Ampere",
    (8, 9): "Ada Lovelace",
    (9, 0): "Hopper",
    (10, None): "Blackwell",
    (11, None): "Blackwell",
    (12, None): "Blackwell",
}


def gpu_architecture(capability: tuple[int, int]) -> str | None:
    major, minor = capability
    return _GPU_ARCHITECTURES.get((major, minor)) or _GPU_ARCHITECTURES.get((major, None))


def tensor_core_support(capability: tuple[int, int]) -> dict[str, bool]:
    """Which low-precision matmuls have tensor cores: FP16 from 7.0, BF16 and TF32 from 8.0."""
    return {
        "fp16": capability >= (7, 0),
        "bf16": capability >= (8, 0),
        "tf32": capability >= (8, 0),
    }


_GEFORCE_GENERATIONS = {
    "50": "Blackwell",
    "40": "Ada Lovelace",
    "30": "Ampere",
    "20": "Turing",
    "16": "Turing",
    "10": "Pascal",
}


def geforce_reading(name: str) -> dict[str, Any] | None:
    """The notes' reading of a GeForce name: first two digits generation, last two tier.

    "NVIDIA GeForce RTX 3080 Ti" -> generation 30 (Ampere), tier 80, variant Ti. What a
    tier means ("high end") is the report's to say, in the reader's language. None for
    names that do not follow the pattern (data-centre cards, laptops named otherwise).
    """
    match = re.search(r"\b(RTX|GTX)\s*(\d{2})(\d{2})\b\s*(Ti|SUPER|Super)?", name)
    if not match:
        return None
    series, generation, tier, variant = match.groups()
    return {
        "series": series,
        "generation": generation,
        "generation_architecture": _GEFORCE_GENERATIONS.get(generation),
        "tier": tier,
        "variant": variant.capitalize() if variant and variant.upper() == "SUPER" else variant,
    }


# AMD family 0x19 covers Zen 3 and Zen 4; the model number tells them apart.
_AMD_FAMILIES = {23: "Zen / Zen+ / Zen 2", 26: "Zen 5"}
_AMD_ZEN4_MODELS = [(0x10, 0x1F), (0x60, 0x7F), (0xA0, 0xAF)]

# Intel family 6 model numbers of common desktop, laptop and server parts.
_INTEL_MODELS = {
    0x5E: "Skylake",
    0x4E: "Skylake",
    0x55: "Skylake-SP / Cascade Lake",
    0x8E: "Kaby Lake / Coffee Lake (mobile)",
    0x9E: "Kaby Lake / Coffee Lake",
    0xA5: "Comet Lake",
    0xA6: "Comet Lake",
    0x7E: "Ice Lake",
    0x6A: "Ice Lake-SP",
    0x6C: "Ice Lake-SP",
    0x8C: "Tiger Lake",
    0x8D: "Tiger Lake",
    0xA7: "Rocket Lake",
    0x97: "Alder Lake",
    0x9A: "Alder Lake",
    0xB7: "Raptor Lake",
    0xBA: "Raptor Lake",
    0xBF: "Raptor Lake",
    0x8F: "Sapphire Rapids",
    0xCF: "Emerald Rapids",
    0xAA: "Meteor Lake",
    0xAC: "Meteor Lake",
    0xC5: "Arrow Lake",
    0xC6: "Arrow Lake",
    0xBD: "Lunar Lake",
    0xAD: "Granite Rapids",
    0xAF: "Sierra Forest",
}


def cpu_microarchitecture(vendor: str | None, family: int | None, model: int | None) -> str | None:
    """Microarchitecture family from CPUID family/model; None when not in the tables."""
    if vendor is None or family is None or model is None:
        return None
    if "AMD" in vendor:
        if family == 25:
            zen4 = any(low <= model <= high for low, high in _AMD_ZEN4_MODELS)
            return "Zen 4" if zen4 else "Zen 3"
        return _AMD_FAMILIES.get(family)
    if "Intel" in vendor and family == 6:
        return _INTEL_MODELS.get(model)
    return None


def cpu_generation(model_name: str | None) -> dict[str, Any] | None:
    """The generation a CPU's marketing name states, as the notes read it: the product line,
    its generation and its tier, as identifiers and numbers the report words.

    "12th Gen Intel(R) Core(TM) i9-12900KF" -> intel_core, generation 12, tier i9;
    "AMD Ryzen 7 5800X" -> ryzen, generation 5000, tier 7.
    """
    if not model_name:
        return None
    intel = re.search(r"\bi([3579])-(\d{4,5})", model_name)
    if intel:
        tier, number = intel.groups()
        generation = int(number[:2]) if len(number) == 5 else int(number[0])
        return {"line": "intel_core", "generation": generation, "tier": f"i{tier}"}
    ultra = re.search(r"Core\(TM\) Ultra ([3579]) (\d)(\d{2})", model_name) or re.search(
        r"Core Ultra ([3579]) (\d)(\d{2})", model_name
    )
    if ultra:
        tier, series, _ = ultra.groups()
        return {"line": "intel_core_ultra", "generation": int(series), "tier": tier}
    ryzen = re.search(r"Ryzen (\d) (?:PRO )?(\d)(\d{3})", model_name)
    if ryzen:
        tier, series, _ = ryzen.groups()
        return {"line": "ryzen", "generation": int(series) * 1000, "tier": tier}
    apple = re.search(r"Apple (M\d+)(?: (Pro|Max|Ultra))?", model_name)
    if apple:
        return {"line": "apple", "generation": apple.group(1), "tier": apple.group(2)}
    return None
