from __future__ import annotations

from experiments import hardware_names as hw


def test_geforce_reading_follows_the_notes() -> None:
    reading = hw.geforce_reading("NVIDIA GeForce RTX 3080 Ti")
    assert reading == {
        "series": "RTX",
        "generation": "30",
        "generation_architecture": "Ampere",
        "tier": "80",
        "tier_meaning": "high end",
        "variant": "Ti",
    }
    assert hw.geforce_reading("NVIDIA GeForce RTX 4060")["tier_meaning"] == "mainstream"  # type: ignore[index]
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
    assert hw.cpu_generation("12th Gen Intel(R) Core(TM) i9-12900KF") == (
        "Intel Core 12th generation, i9 tier"
    )
    assert hw.cpu_generation("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz") == (
        "Intel Core 8th generation, i7 tier"
    )
    assert hw.cpu_generation("AMD Ryzen 7 5800X 8-Core Processor") == (
        "Ryzen 5000 series, Ryzen 7 tier"
    )
    assert hw.cpu_generation("Intel(R) Core(TM) Ultra 7 155H") == (
        "Intel Core Ultra series 1, Ultra 7 tier"
    )
    assert hw.cpu_generation("AMD EPYC") is None


def test_microarchitecture_from_cpuid() -> None:
    assert hw.cpu_microarchitecture("AuthenticAMD", 25, 17) == "Zen 4"
    assert hw.cpu_microarchitecture("AuthenticAMD", 25, 33) == "Zen 3"
    assert hw.cpu_microarchitecture("GenuineIntel", 6, 0x97) == "Alder Lake"
    assert hw.cpu_microarchitecture("GenuineIntel", 6, 0x01) is None
    assert hw.cpu_microarchitecture(None, 6, 0x97) is None
