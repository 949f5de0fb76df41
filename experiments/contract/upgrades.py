"""UPGRADES[n] turns a version-n document into version n+1 (see format.HISTORY).

Each step is a pure function of the parsed document. Version 1 files held
some English sentences (titles, descriptions, reasons); the step to version 2
maps every sentence version 1 could write to the identifier and numbers it
stood for, and keeps an unrecognised text as an error detail rather than
guessing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

JSONDict = dict[str, Any]


def _data_source_v2(text: str | None, default_kind: str) -> JSONDict:
    if not text:
        return {"kind": default_kind, "path": None}
    for prefix, kind in (("MNIST from ", "mnist_files"), ("CIFAR-10 from ", "cifar10_files")):
        if text.startswith(prefix):
            return {"kind": kind, "path": text[len(prefix) :]}
    if text.startswith("Iris"):
        return {"kind": "iris", "path": None}
    if text.startswith("digits"):
        return {"kind": "digits", "path": None}
    if text.startswith("synthetic"):
        return {"kind": "synthetic", "path": None}
    return {"kind": "unknown", "path": None}


_TOO_SLOW = re.compile(
    r"one step took ([\d.]+) s, so its runs would take about ([\d.]+) s \(limit ([\d.]+) s\)"
)


def _reason_v2(text: str | None) -> JSONDict | None:
    if text is None:
        return None
    slow = _TOO_SLOW.search(text)
    if slow:
        step, projected, limit = (float(v) for v in slow.groups())
        return {"code": "too_slow", "step_s": step, "projected_s": projected, "limit_s": limit}
    if "CUDA graphs need a CUDA device" in text:
        return {"code": "needs_cuda"}
    return {"code": "error", "error": text}


_LINEAR = re.compile(r"Linear\((\d+), (\d+)\)")


def _widths(description: str) -> list[int]:
    layers = [(int(a), int(b)) for a, b in _LINEAR.findall(description)]
    if not layers:
        raise ValueError(f"no layer widths in {description!r}")
    return [layers[0][0], *(b for _, b in layers)]


def _cpu_generation_v2(text: str | None) -> JSONDict | None:
    if not text:
        return None
    patterns: tuple[tuple[str, str, Callable[[re.Match[str]], JSONDict]], ...] = (
        (
            "intel_core",
            r"Intel Core (\d+)\w\w generation, (i\d) tier",
            lambda m: {"generation": int(m[1]), "tier": m[2]},
        ),
        (
            "intel_core_ultra",
            r"Intel Core Ultra series (\d+), Ultra (\d) tier",
            lambda m: {"generation": int(m[1]), "tier": m[2]},
        ),
        (
            "ryzen",
            r"Ryzen (\d+) series, Ryzen (\d) tier",
            lambda m: {"generation": int(m[1]), "tier": m[2]},
        ),
        (
            "apple",
            r"Apple (M\d+) generation ?(Pro|Max|Ultra)?",
            lambda m: {"generation": m[1], "tier": m[2]},
        ),
    )
    for line, pattern, fields in patterns:
        match = re.search(pattern, text)
        if match:
            return {"line": line, **fields(match)}
    return None


_UNAVAILABLE_SOURCES = (
    ("GPU", "gpu"),
    ("NVML (nvidia-ml-py)", "nvml"),
    ("cpu details (py-cpuinfo)", "cpu_details"),
    ("cpu frequency", "cpu_frequency"),
    ("cpu caches", "cpu_caches"),
    ("cpu cache", "cpu_caches"),
)
_UNAVAILABLE_CODES = {
    "torch has no CUDA support (CPU build)": "torch_cpu_build",
    "torch is a CUDA build but no CUDA device is visible": "no_cuda_device",
    "not reported by the OS": "not_reported",
    "/sys/devices/system/cpu not present (not Linux)": "not_linux",
}


def _unavailable_v2(text: str) -> JSONDict:
    head, _, detail = text.partition(": ")
    source = next((sid for prefix, sid in _UNAVAILABLE_SOURCES if head.startswith(prefix)), None)
    if source is None:
        return {"source": "other", "code": "error", "detail": text}
    code = _UNAVAILABLE_CODES.get(detail)
    return {"source": source, "code": code or "error", "detail": None if code else detail}


def _experiment_data_v2(name: str, data: JSONDict) -> None:
    if name == "cpu_vs_gpu":
        model = data["iris"]["model"]
        model["widths"] = _widths(model.pop("description"))
    elif name == "logging_interval":
        for entry in data["per_device"]:
            verdict = entry.get("notes_intervals")
            if verdict is not None:
                verdict["rule"] = "kruskal_wallis" if "p_value" in verdict else "spread_over_2sd"
    elif name == "step_overhead":
        for entry in data["per_device"]:
            for variant in entry["variants"]:
                variant.pop("description", None)
                variant["unsupported"] = _reason_v2(variant["unsupported"])
    elif name == "batch_size_scaling":
        data["data_source"] = _data_source_v2(data.get("data_source"), "synthetic")
        quality = data["quality"]
        quality["dataset"]["name"] = "digits"
        quality["widths"] = _widths(quality.pop("model"))
    elif name == "mixed_precision":
        for entry in data["per_device"]:
            for workload in entry["workloads"]:
                workload.pop("description", None)
                workload["data_source"] = _data_source_v2(workload.get("data_source"), "unknown")
                for mode in workload["modes"]:
                    mode["unsupported"] = _reason_v2(mode["unsupported"])


def _v1_to_v2(old: JSONDict) -> JSONDict:
    document = copy.deepcopy(old)
    document["schema_version"] = 2
    kind = document.get("kind")
    if kind == "experiment":
        document.pop("title", None)
        document.pop("device_names", None)
        if document.get("status") == "ok" and isinstance(document.get("data"), dict):
            _experiment_data_v2(document["experiment"], document["data"])
    elif kind == "environment":
        cpu = document["cpu"]
        cpu["generation"] = _cpu_generation_v2(cpu.get("generation"))
        for gpu in document["gpus"]:
            reading = gpu.get("geforce_reading")
            if reading:
                reading.pop("tier_meaning", None)
        document["unavailable"] = [_unavailable_v2(u) for u in document["unavailable"]]
    return document


def _chunks_v3(name: str, data: JSONDict) -> None:
    """Version 2 read the clock once per repeat: each repeat is one chunk (of the whole
    loop), so its values become the chunk values, exactly as measured. (Fields already
    there are kept: development files of version 2 carried them before the number moved.)"""
    if name == "cpu_vs_gpu":
        epochs = data["iris"]["epochs"]
        for entry in data["iris"]["per_device"]:
            entry.setdefault("chunk_epochs", epochs)
            entry.setdefault("chunk_epoch_s", [t / epochs for t in entry["times_s"]])
        for entry in data["crossover"]["per_device"]:
            for point in entry["points"]:
                point.setdefault("each_step_s", list(point["step_s"]))  # a repeat's mean step
    elif name == "logging_interval":
        epochs = data["epochs"]
        for entry in data["per_device"]:
            entry.setdefault("direct", None)  # one .item() timed on its own: not in older files
            for variant in entry["variants"]:
                variant.setdefault("chunk_epoch_s", [t / epochs for t in variant["times_s"]])
    elif name == "step_overhead":
        for entry in data["per_device"]:
            entry.setdefault("cpp_call_s", None)
            for variant in entry["variants"]:
                variant.setdefault("chunk_steps", data["steps"])
                variant.setdefault("chunk_step_s", list(variant["step_s"]))
    elif name == "batch_size_scaling":
        for entry in data["per_device"]:
            for point in entry["points"]:  # a repeat was one epoch of `steps` steps
                point.setdefault("chunk_step_s", [t / point["steps"] for t in point["epoch_s"]])
    elif name == "mixed_precision":
        for entry in data["per_device"]:
            for workload in entry["workloads"]:
                for mode in workload["modes"]:
                    timed = bool(mode["step_s"])
                    mode.setdefault("chunk_steps", workload["steps"] if timed else None)
                    mode.setdefault("chunk_step_s", list(mode["step_s"]))


def _v2_to_v3(old: JSONDict) -> JSONDict:
    document = copy.deepcopy(old)
    document["schema_version"] = 3
    if (
        document.get("kind") == "experiment"
        and document.get("status") == "ok"
        and isinstance(document.get("data"), dict)
    ):
        _chunks_v3(document["experiment"], document["data"])
    return document


def _v3_to_v4(old: JSONDict) -> JSONDict:
    """Version 4 only added optional fields (a second reference workload)."""
    document = copy.deepcopy(old)
    document["schema_version"] = 4
    return document


UPGRADES: dict[int, Callable[[JSONDict], JSONDict]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}
