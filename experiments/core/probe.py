"""The machine probe: everything about the hardware and software that a number depends on.

Each collector tolerates a missing source (no GPU, no NVML, not Linux): it
fills what it can, leaves the rest null and records in `unavailable` what
could not be read, as a source and a reason identifier (the report words them)
or, for an unexpected failure, the error itself. The readings the notes teach
(CPU generation, cores, threads; GPU VRAM, tier and generation) are derived
here from the raw facts, as identifiers and numbers, so the report only words
and places them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import torch

from experiments.contract import gpu_support
from experiments.contract.format import SCHEMA_VERSION
from experiments.core import hardware_names

Unavailable = list[dict[str, Any]]


def _missing(sink: Unavailable, source: str, code: str, detail: object = None) -> None:
    """Record that `source` could not be read: `code` is an identifier ("error" with the
    exception's text as `detail` when the failure was unexpected)."""
    sink.append({"source": source, "code": code, "detail": None if detail is None else str(detail)})


# Environment variables that change how torch, BLAS or CUDA behave.
RELEVANT_ENV = (
    "OMP_NUM_THREADS",
    "OMP_WAIT_POLICY",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "KMP_AFFINITY",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_LAUNCH_BLOCKING",
    "CUBLAS_WORKSPACE_CONFIG",
    "PYTORCH_CUDA_ALLOC_CONF",
    "TORCH_REQUIREMENT",
    "TORCH_INDEX_URL",
)

# ISA extensions that decide which CPU kernels torch can use.
ISA_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "amx_bf16",
    "amx_tile",
    "amx_int8",
    "avx512_fp16",
    "amx_fp16",
    "avx_vnni",
    "neon",
    "asimd",
    "sve",
)


def _cpu(unavailable: Unavailable) -> dict[str, Any]:
    info: dict[str, Any] = {}
    try:
        import cpuinfo

        info = cpuinfo.get_cpu_info()
    except Exception as error:  # any failure of a probe is a fact to report, not a crash
        _missing(unavailable, "cpu_details", "error", error)
    model = info.get("brand_raw") or platform.processor() or None
    flags = {flag.lower() for flag in info.get("flags", [])}
    freq = None
    try:
        freq = psutil.cpu_freq()
    except Exception as error:
        _missing(unavailable, "cpu_frequency", "error", error)
    if freq is None:
        _missing(unavailable, "cpu_frequency", "not_reported")
    physical = psutil.cpu_count(logical=False)
    logical = psutil.cpu_count(logical=True)
    family, model_number = info.get("family"), info.get("model")
    vendor = info.get("vendor_id_raw")
    return {
        "model": model,
        "vendor": vendor,
        "architecture": platform.machine() or None,
        "family": family,
        "model_number": model_number,
        "stepping": info.get("stepping"),
        "microarchitecture": hardware_names.cpu_microarchitecture(vendor, family, model_number),
        "generation": hardware_names.cpu_generation(model),
        "physical_cores": physical,
        "logical_threads": logical,
        "affinity_threads": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else None,
        "frequency_mhz": {
            "current": round(freq.current, 1) if freq else None,
            "min": round(freq.min, 1) if freq and freq.min else None,
            "max": round(freq.max, 1) if freq and freq.max else None,
            "advertised": round(info["hz_advertised"][0] / 1e6, 1)
            if info.get("hz_advertised")
            else None,
        },
        "caches": _caches(unavailable),
        "isa": {flag: flag in flags for flag in ISA_FLAGS} if flags else {},
        "torch_cpu_capability": _safe(torch.backends.cpu.get_cpu_capability, None),
    }


def _caches(unavailable: Unavailable) -> list[dict[str, Any]]:
    """Cache levels from sysfs: size per instance and how many cores share one."""
    root = Path("/sys/devices/system/cpu/cpu0/cache")
    if not root.is_dir():
        _missing(unavailable, "cpu_caches", "not_linux")
        return []
    caches = []
    for index in sorted(root.glob("index*")):
        try:
            size_text = (index / "size").read_text(encoding="utf-8").strip()
            size = int(size_text.rstrip("KMG")) * {"K": 1024, "M": 1024**2, "G": 1024**3}.get(
                size_text[-1], 1
            )
            shared = (index / "shared_cpu_list").read_text(encoding="utf-8").strip()
            caches.append(
                {
                    "level": int((index / "level").read_text(encoding="utf-8")),
                    "type": (index / "type").read_text(encoding="utf-8").strip(),
                    "size_bytes": size,
                    "shared_by_cpus": shared,
                }
            )
        except (OSError, ValueError) as error:
            _missing(unavailable, "cpu_caches", "error", f"{index.name}: {error}")
    return caches


def _memory() -> dict[str, Any]:
    virtual = psutil.virtual_memory()
    return {"total_bytes": int(virtual.total), "available_bytes": int(virtual.available)}


def _safe(read: Callable[..., Any], default: Any, *args: Any) -> Any:
    """`read(*args)`, or `default` when the source cannot answer (missing driver, old GPU)."""
    try:
        return read(*args)
    except Exception:
        return default


def _scaled(value: Any, factor: float) -> float | None:
    return None if value is None else float(value) * factor


def gpu_live_readings(unavailable: Unavailable | None = None) -> list[dict[str, Any]]:
    """NVML's readings that change over a run (temperature, clocks, power), per GPU."""
    sink: Unavailable = [] if unavailable is None else unavailable
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as error:
        _missing(sink, "nvml", "error", error)
        return []
    nv = pynvml
    readings = []
    try:
        for index in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(index)
            readings.append(
                {
                    "index": index,
                    "temperature_c": _safe(
                        nv.nvmlDeviceGetTemperature, None, h, nv.NVML_TEMPERATURE_GPU
                    ),
                    "sm_clock_mhz": _safe(nv.nvmlDeviceGetClockInfo, None, h, nv.NVML_CLOCK_SM),
                    "memory_clock_mhz": _safe(
                        nv.nvmlDeviceGetClockInfo, None, h, nv.NVML_CLOCK_MEM
                    ),
                    "power_draw_w": _scaled(_safe(nv.nvmlDeviceGetPowerUsage, None, h), 1e-3),
                }
            )
    finally:
        _safe(nv.nvmlShutdown, None)
    return readings


def _nvml_static(unavailable: Unavailable) -> tuple[str | None, dict[int, dict[str, Any]]]:
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as error:
        _missing(unavailable, "nvml", "error", error)
        return None, {}
    nv = pynvml
    per_gpu: dict[int, dict[str, Any]] = {}
    try:
        driver = _safe(nv.nvmlSystemGetDriverVersion, None)
        for index in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(index)
            per_gpu[index] = {
                "power_limit_w": _scaled(
                    _safe(nv.nvmlDeviceGetPowerManagementLimit, None, h), 1e-3
                ),
                "max_sm_clock_mhz": _safe(nv.nvmlDeviceGetMaxClockInfo, None, h, nv.NVML_CLOCK_SM),
                "max_memory_clock_mhz": _safe(
                    nv.nvmlDeviceGetMaxClockInfo, None, h, nv.NVML_CLOCK_MEM
                ),
                "pcie_generation": _safe(nv.nvmlDeviceGetCurrPcieLinkGeneration, None, h),
                "pcie_width": _safe(nv.nvmlDeviceGetCurrPcieLinkWidth, None, h),
                "pcie_max_generation": _safe(nv.nvmlDeviceGetMaxPcieLinkGeneration, None, h),
                "pcie_max_width": _safe(nv.nvmlDeviceGetMaxPcieLinkWidth, None, h),
            }
    finally:
        _safe(nv.nvmlShutdown, None)
    return (str(driver) if driver is not None else None), per_gpu


def _gpus(unavailable: Unavailable) -> tuple[list[dict[str, Any]], str | None]:
    if not torch.cuda.is_available():
        code = "torch_cpu_build" if torch.version.cuda is None else "no_cuda_device"
        _missing(unavailable, "gpu", code)
        return [], None
    driver, nvml = _nvml_static(unavailable)
    live = {r["index"]: r for r in gpu_live_readings(unavailable)}
    gpus = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        capability = (int(props.major), int(props.minor))
        gpus.append(
            {
                "index": index,
                "name": str(props.name),
                "total_memory_bytes": int(props.total_memory),
                "compute_capability": f"{capability[0]}.{capability[1]}",
                "architecture": hardware_names.gpu_architecture(capability),
                "tensor_cores": hardware_names.tensor_core_support(capability),
                "geforce_reading": hardware_names.geforce_reading(str(props.name)),
                "sm_count": int(props.multi_processor_count),
                **nvml.get(index, {}),
                "start": live.get(index),
                "end": None,
            }
        )
    return gpus, driver


def _torch_build() -> dict[str, Any]:
    config = _safe(torch.__config__.show, "")
    blas = re.search(r"BLAS_INFO=(\w+)", config)
    cuda_available = torch.cuda.is_available()
    return {
        "version": torch.__version__,
        "cuda_build": torch.version.cuda,
        "cudnn_version": _safe(torch.backends.cudnn.version, None),
        "blas": blas.group(1) if blas else None,
        "mkl": bool(_safe(torch.backends.mkl.is_available, False)),
        "mkldnn": bool(_safe(torch.backends.mkldnn.is_available, False)),
        "openmp": bool(_safe(torch.backends.openmp.is_available, False)),
        "cuda_available": cuda_available,
        "device_count": torch.cuda.device_count() if cuda_available else 0,
        "current_device": torch.cuda.current_device() if cuda_available else None,
        "mps_available": bool(torch.backends.mps.is_available()),
        "default_threads": torch.get_num_threads(),
        "default_interop_threads": torch.get_num_interop_threads(),
    }


def _from_nvml() -> gpu_support.DriverAnswer | None:
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver, or no NVIDIA GPU: NVML cannot start
        return None
    try:
        names: list[str] = []
        memory: list[int | None] = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            names.append(name.decode() if isinstance(name, bytes) else str(name))
            try:
                memory.append(int(pynvml.nvmlDeviceGetMemoryInfo(handle).total))
            except Exception:
                memory.append(None)
        driver = pynvml.nvmlSystemGetDriverVersion()
        cuda = pynvml.nvmlSystemGetCudaDriverVersion()
        return gpu_support.DriverAnswer(
            gpus=tuple(names),
            driver_version=driver.decode() if isinstance(driver, bytes) else str(driver),
            cuda_version=gpu_support.parse_cuda(str(cuda)),
            source="nvml",
            memory_bytes=tuple(memory),
        )
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def query_driver() -> gpu_support.DriverAnswer:
    """Ask NVML (nvidia-ml-py), else the driver's nvidia-smi tool; no answer: no GPU."""
    return _from_nvml() or gpu_support.query_nvidia_smi() or gpu_support.DriverAnswer()


def nvidia_record(
    answer: gpu_support.DriverAnswer, decision: gpu_support.Decision
) -> dict[str, Any]:
    """What the NVIDIA driver reports, apart from torch, and what torch makes of it
    (ENVIRONMENT_SPEC `nvidia`): a GPU the installed torch cannot use is still named."""
    return {
        "source": answer.source,
        "driver_version": answer.driver_version,
        "cuda_driver_version": gpu_support.cuda_text(answer.cuda_version),
        "gpus": [
            {
                "name": name,
                "total_memory_bytes": memory,
                "geforce_reading": hardware_names.geforce_reading(name),
            }
            for name, memory in zip(
                answer.gpus,
                answer.memory_bytes or tuple(None for _ in answer.gpus),
                strict=True,
            )
        ],
        "status": decision.status,
        "torch_cuda": decision.torch_cuda,
        "suggested_build": decision.tag,
    }


def probe() -> dict[str, Any]:
    """The whole `environment.json` document, taken at the start of a run."""
    unavailable: Unavailable = []
    gpus, driver = _gpus(unavailable)
    answer = query_driver()
    decision = gpu_support.decide(answer, torch.version.cuda, torch.cuda.is_available())
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "environment",
        "cpu": _cpu(unavailable),
        "memory": _memory(),
        "gpus": gpus,
        "gpu_driver": driver,
        "torch": _torch_build(),
        "python": {"version": platform.python_version(), "implementation": sys.implementation.name},
        "os": {
            "system": platform.system(),
            "release": platform.release(),
            "platform": platform.platform(),
        },
        "env": {name: os.environ.get(name) for name in RELEVANT_ENV},
        "nvidia": nvidia_record(answer, decision),
        "unavailable": unavailable,
    }


def record_end(environment: dict[str, Any]) -> None:
    """Add the GPU readings at the end of a run (temperature, clocks) in place."""
    if not environment["gpus"]:
        return
    live = {r["index"]: r for r in gpu_live_readings()}
    for gpu in environment["gpus"]:
        gpu["end"] = live.get(gpu["index"])
