"""The machine, read the way the notes teach: CPU generation, cores, threads; GPU VRAM, tier
and generation; then the software build that the numbers also depend on."""

from __future__ import annotations

from typing import Any

from report import vocabulary

ISA_MEANING = {
    "avx2": "256-bit vector math (most x86 CPUs since 2013)",
    "avx512f": "512-bit vector math",
    "avx512_bf16": "BF16 dot products in hardware (fast BF16 autocast on CPU)",
    "amx_bf16": "AMX matrix tiles for BF16 (Sapphire Rapids and newer)",
    "avx512_vnni": "int8 dot products",
}


def _cache_rows(caches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for cache in caches:
        kind = {"Data": "data", "Instruction": "instruction", "Unified": ""}.get(cache["type"], "")
        name = f"L{cache['level']}" + (f" {kind}" if kind else "")
        rows.append(
            {"name": name, "size_bytes": cache["size_bytes"], "shared_by": cache["shared_by_cpus"]}
        )
    return rows


def _gpu_view(gpu: dict[str, Any]) -> dict[str, Any]:
    reading = gpu.get("geforce_reading")
    if reading:
        parts = [
            f"generation {reading['generation']}"
            + (
                f" ({reading['generation_architecture']})"
                if reading["generation_architecture"]
                else ""
            ),
            f"tier {reading['tier']}"
            + (f" ({meaning})" if (meaning := vocabulary.geforce_tier(reading["tier"])) else ""),
        ]
        if reading["variant"]:
            parts.append(f"{reading['variant']}: a stronger variant between tiers")
        tier_text = "; ".join(parts)
    else:
        tier_text = (
            "the name does not follow the GeForce pattern (xx90 … xx50), so the notes' "
            "tier reading does not apply; read the compute capability instead"
        )
    start, end = gpu.get("start") or {}, gpu.get("end") or {}
    return {
        **gpu,
        "tier_text": tier_text,
        "temperature_start": start.get("temperature_c"),
        "temperature_end": end.get("temperature_c"),
        "sm_clock_start": start.get("sm_clock_mhz"),
    }


def build(environment: dict[str, Any]) -> dict[str, Any]:
    cpu = environment["cpu"]
    if cpu.get("generation"):
        generation_text = f"The model name states: {vocabulary.cpu_generation(cpu['generation'])}."
    else:
        generation_text = (
            f"The model name “{cpu.get('model') or 'unknown'}” states no generation"
            " (server and virtual-machine CPUs often hide it)."
        )
    if cpu.get("microarchitecture"):
        generation_text += (
            f" CPUID (family {cpu['family']}, model {cpu['model_number']}) "
            f"identifies the microarchitecture: {cpu['microarchitecture']}."
        )
    isa = cpu.get("isa") or {}
    isa_rows = [
        {"flag": flag, "present": isa.get(flag), "meaning": meaning}
        for flag, meaning in ISA_MEANING.items()
        if flag in isa
    ]
    gpu_unavailable = [
        vocabulary.unavailable_reason(u) for u in environment["unavailable"] if u["source"] == "gpu"
    ]
    env_set = {k: v for k, v in environment["env"].items() if v is not None}
    return {
        "cpu": cpu,
        "generation_text": generation_text,
        "caches": _cache_rows(cpu.get("caches") or []),
        "isa_rows": isa_rows,
        "memory": environment["memory"],
        "gpus": [_gpu_view(g) for g in environment["gpus"]],
        "gpu_driver": environment.get("gpu_driver"),
        "no_gpu_reason": gpu_unavailable[0] if gpu_unavailable else "no CUDA device was found",
        "torch": environment["torch"],
        "python": environment["python"],
        "os": environment["os"],
        "env_set": env_set,
        "unavailable": [
            vocabulary.unavailable(u) for u in environment["unavailable"] if u["source"] != "gpu"
        ],
    }
