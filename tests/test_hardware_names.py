from __future__ import annotations

from experiments.core import hardware_names as hw


def test_geforce_reading_follows_the_notes() -> None:
    reading = hw.geforce_reading("NVIDIA GeForce RTX 3080 Ti")
    assert reading == {
        "series": "RTX",
        "generation": "30",
        "generation_architecture": "Ampere",
        "tier": "80",
        "variant": "Ti",
    }
    assert hw.geforce_reading("NVIDIA GeForce RTX 4060")["tier"] == "60"  # type: ignore[index]
    assert hw.geforce_reading("NVIDIA GeForce GTX 1650 SUPER")["variant"] == "Super"  # type: ignore[index]
    assert hw.geforce_reading("NVIDIA H100 80GB HBM3") is None


def test_compute_capability_to_architecture_and_tensor_cores() -> None:
    assert hw.gpu_architecture((8, 6)) == "Ampere"
    assert hw.gpu_architecture((9, 0)) == "Hopper"
    assert hw.gpu_architecture((6, 1)) == "Pascal"
    assert hw.gpu_architecture((12, 0)) == "Blackwell"
    assert hw.gpu_architecture((1, 0)) is None
    assert hw.tensor_core_support((7, 5)) == {"fp16": True, "bf16": False, "tf32": False}
    assert hw.tensor_core_support((6, 1)) == {"fp16": False, "bf16": False, "tf32": False}


def test_cpu_generation_from_marketing_names() -> None:
    assert hw.cpu_generation("12th Gen Intel(R) Core(TM) i9-12900KF") == {
        "line": "intel_core",
        "generation": 12,
        "tier": "i9",
    }
    assert hw.cpu_generation("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz") == {
        "line": "intel_core",
        "generation": 8,
        "tier": "i7",
    }
    assert hw.cpu_generation("AMD Ryzen 7 5800X 8-Core Processor") == {
        "line": "ryzen",
        "generation": 5000,
        "tier": "7",
    }
    assert hw.cpu_generation("Intel(R) Core(TM) Ultra 7 155H") == {
        "line": "intel_core_ultra",
        "generation": 1,
        "tier": "7",
    }
    assert hw.cpu_generation("Apple M3 Max") == {"line": "apple", "generation": "M3", "tier": "Max"}
    assert hw.cpu_generation("AMD EPYC") is None


def test_the_report_words_the_readings() -> None:
    from report.words import vocabulary

    assert vocabulary.cpu_generation(
        hw.cpu_generation("12th Gen Intel(R) Core(TM) i9-12900KF") or {}
    ) == ("Intel Core 12th generation, i9 tier")
    assert vocabulary.cpu_generation(hw.cpu_generation("Apple M2") or {}) == "Apple M2 generation"
    assert vocabulary.geforce_tier("80") == "high end"
    assert vocabulary.geforce_tier("65") is None


def test_microarchitecture_from_cpuid() -> None:
    assert hw.cpu_microarchitecture("AuthenticAMD", 25, 17) == "Zen 4"
    assert hw.cpu_microarchitecture("AuthenticAMD", 25, 33) == "Zen 3"
    assert hw.cpu_microarchitecture("GenuineIntel", 6, 0x97) == "Alder Lake"
    assert hw.cpu_microarchitecture("GenuineIntel", 6, 0x01) is None
    assert hw.cpu_microarchitecture(None, 6, 0x97) is None
