"""The machine, read the way the notes teach: CPU generation, cores, threads; GPU VRAM, tier
and generation; then the software build that the numbers also depend on."""

from __future__ import annotations

from typing import Any

from experiments.contract import gpu_support
from experiments.contract.declaration import N_
from report.words import vocabulary
from report.words.formatting import listing
from report.words.i18n import _

ISA_MEANING = {
    "avx2": N_("256-bit vector math (most x86 CPUs since 2013)"),
    "avx512f": N_("512-bit vector math"),
    "avx512_bf16": N_("BF16 dot products in hardware (fast BF16 autocast on CPU)"),
    "amx_bf16": N_("AMX matrix tiles for BF16 (Sapphire Rapids and newer)"),
    "avx512_vnni": N_("int8 dot products"),
}

CACHE_KINDS = {"Data": N_("data"), "Instruction": N_("instruction")}


def _cache_rows(caches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for cache in caches:
        kind = CACHE_KINDS.get(cache["type"])
        name = f"L{cache['level']}" + (f" {_(kind)}" if kind else "")
        rows.append(
            {"name": name, "size_bytes": cache["size_bytes"], "shared_by": cache["shared_by_cpus"]}
        )
    return rows


def tier_text(gpu: dict[str, Any]) -> str:
    """The notes' reading of a GeForce name, in a sentence (002)."""
    reading = gpu.get("geforce_reading")
    if not reading:
        return _(
            "the name does not follow the GeForce pattern (xx90 … xx50), so the notes' tier "
            "reading does not apply; read the compute capability instead"
        )
    architecture = reading["generation_architecture"]
    meaning = vocabulary.geforce_tier(reading["tier"])
    parts = [
        _("generation {generation} ({architecture})").format(
            generation=reading["generation"], architecture=architecture
        )
        if architecture
        else _("generation {generation}").format(generation=reading["generation"]),
        _("tier {tier} ({meaning})").format(tier=reading["tier"], meaning=meaning)
        if meaning
        else _("tier {tier}").format(tier=reading["tier"]),
    ]
    if reading["variant"]:
        parts.append(
            _("{variant}: a stronger variant between tiers").format(variant=reading["variant"])
        )
    return _("; ").join(parts)


# What a GPU entry may lack (a GPU seen by NVML only, or an older file): shown as "—".
GPU_DEFAULTS: dict[str, Any] = {
    "index": None,
    "compute_capability": None,
    "architecture": None,
    "tensor_cores": {"fp16": None, "bf16": None, "tf32": None},
    "sm_count": None,
    "power_limit_w": None,
    "pcie_generation": None,
}


def _gpu_view(gpu: dict[str, Any]) -> dict[str, Any]:
    start, end = gpu.get("start") or {}, gpu.get("end") or {}
    return {
        **GPU_DEFAULTS,
        **gpu,
        "tier_text": tier_text(gpu),
        "temperature_start": start.get("temperature_c"),
        "temperature_end": end.get("temperature_c"),
        "sm_clock_start": start.get("sm_clock_mhz"),
    }


def generation_text(cpu: dict[str, Any]) -> str:
    if cpu.get("generation"):
        text = _("The model name states: {generation}.").format(
            generation=vocabulary.cpu_generation(cpu["generation"])
        )
    else:
        text = _(
            "The model name “{model}” states no generation (server and virtual-machine CPUs "
            "often hide it)."
        ).format(model=cpu.get("model") or _("unknown"))
    if cpu.get("microarchitecture"):
        text += " " + _(
            "CPUID (family {family}, model {model}) identifies the microarchitecture: "
            "{microarchitecture}."
        ).format(
            family=cpu["family"],
            model=cpu["model_number"],
            microarchitecture=cpu["microarchitecture"],
        )
    return text


UNUSED_GPU_STATUS = ("cpu_build", "driver_too_old", "not_usable")


def unused_gpu(environment: dict[str, Any]) -> dict[str, Any] | None:
    """An NVIDIA GPU the driver reports but the installed torch could not use: what it is,
    why torch could not, and the command that installs a build that can (for the OS the
    run was made on)."""
    nvidia = environment.get("nvidia")
    if not nvidia or nvidia["status"] not in UNUSED_GPU_STATUS or not nvidia["gpus"]:
        return None
    decision = gpu_support.Decision(
        nvidia["status"],
        nvidia["suggested_build"],
        nvidia["torch_cuda"],
        nvidia["cuda_driver_version"],
    )
    torch_version = environment["torch"].get("version") or "?"
    why = {
        "cpu_build": _("the installed torch ({torch}) is a CPU-only build").format(
            torch=torch_version
        ),
        "driver_too_old": _(
            "its driver ({driver}, CUDA {driver_cuda}) is older than a CUDA build of torch needs"
        ).format(
            driver=nvidia["driver_version"] or "?", driver_cuda=nvidia["cuda_driver_version"] or "?"
        ),
        "not_usable": _(
            "torch {torch} (CUDA {cuda}) does not see it: torch.cuda.is_available() is False"
        ).format(torch=torch_version, cuda=nvidia["torch_cuda"] or "?"),
    }[nvidia["status"]]
    return {
        "gpus": [
            {**gpu, "tier_text": tier_text(gpu) if gpu.get("geforce_reading") else "—"}
            for gpu in nvidia["gpus"]
        ],
        "names": listing(g["name"] for g in nvidia["gpus"]),
        "driver": nvidia["driver_version"],
        "driver_cuda": nvidia["cuda_driver_version"],
        "why": why,
        "command": gpu_support.install_command(decision, environment["os"]["system"]),
        "update_driver": nvidia["status"] == "driver_too_old" and decision.tag is None,
    }


def build(environment: dict[str, Any]) -> dict[str, Any]:
    cpu = environment["cpu"]
    isa = cpu.get("isa") or {}
    isa_rows = [
        {"flag": flag, "present": isa.get(flag), "meaning": _(meaning)}
        for flag, meaning in ISA_MEANING.items()
        if flag in isa
    ]
    gpu_unavailable = [
        vocabulary.unavailable_reason(u) for u in environment["unavailable"] if u["source"] == "gpu"
    ]
    env_set = {k: v for k, v in environment["env"].items() if v is not None}
    return {
        "cpu": cpu,
        "generation_text": generation_text(cpu),
        "caches": _cache_rows(cpu.get("caches") or []),
        "isa_rows": isa_rows,
        "memory": environment["memory"],
        "gpus": [_gpu_view(g) for g in environment["gpus"]],
        "gpu_names": listing(g["name"] for g in environment["gpus"]),
        "gpu_driver": environment.get("gpu_driver"),
        "no_gpu_reason": gpu_unavailable[0] if gpu_unavailable else _("no CUDA device was found"),
        "unused_gpu": unused_gpu(environment),
        "torch": environment["torch"],
        "python": environment["python"],
        "os": environment["os"],
        "env_set": env_set,
        "unavailable": [
            vocabulary.unavailable(u) for u in environment["unavailable"] if u["source"] != "gpu"
        ],
    }
