"""Which torch build a machine needs, decided from what the NVIDIA driver says.

PyPI's torch for Windows is a CPU-only build: a student with an RTX card who
installs it gets a report saying "no GPU". The NVIDIA driver, though, says
what is there (NVML, or its `nvidia-smi` tool) and the newest CUDA it runs,
whatever torch was installed. From that answer this module decides whether
the GPU is usable by the installed torch, and if not, which of PyTorch's CUDA
builds would be, with the command that installs it.

Standard library only: the noxfile loads this file by path before any
environment exists (to choose the index torch is installed from, asking
`nvidia-smi`), the probe asks NVML first and records the decision in
environment.json (`nvidia.status`), and the report words it, with the command
for the OS the run was made on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

# PyTorch's CUDA builds, newest first: the wheel index tag and the CUDA version it needs
# the driver to support (torch 2.9's list, the newest checked; TORCH_INDEX_URL overrides).
CUDA_WHEELS: tuple[tuple[str, tuple[int, int]], ...] = (
    ("cu130", (13, 0)),
    ("cu128", (12, 8)),
    ("cu126", (12, 6)),
)
INDEX_URL = "https://download.pytorch.org/whl/{tag}"
# Operating systems whose PyPI torch wheel has no CUDA (Linux's has; macOS has no NVIDIA).
PYPI_CPU_ONLY = frozenset({"Windows"})


@dataclass(frozen=True)
class DriverAnswer:
    """What the NVIDIA driver reported: GPU names (empty: none, or no driver), its version,
    and the newest CUDA it supports."""

    gpus: tuple[str, ...] = ()
    driver_version: str | None = None
    cuda_version: tuple[int, int] | None = None
    source: str = "none"  # "nvml", "nvidia-smi" or "none"
    memory_bytes: tuple[int | None, ...] = field(default=())


@dataclass(frozen=True)
class Decision:
    """Whether torch can use the machine's NVIDIA GPU, and what would fix it.

    status: "no_gpu", "usable", "cpu_build" (torch has no CUDA), "driver_too_old"
    (the driver's CUDA is older than torch's or than any CUDA build), or
    "not_usable" (a CUDA build and a new enough driver, yet torch sees no device).
    """

    status: str
    tag: str | None = None  # the CUDA build to install, where one fits the driver
    torch_cuda: str | None = None
    driver_cuda: str | None = None

    @property
    def index_url(self) -> str | None:
        return INDEX_URL.format(tag=self.tag) if self.tag else None


def cuda_text(version: tuple[int, int] | None) -> str | None:
    return f"{version[0]}.{version[1]}" if version else None


def parse_cuda(text: str | None) -> tuple[int, int] | None:
    """'12.4' (or NVML's 12040) as (12, 4)."""
    if text is None:
        return None
    if text.isdigit() and len(text) >= 4:  # NVML: 1000 × major + 10 × minor
        number = int(text)
        return number // 1000, (number % 1000) // 10
    found = re.match(r"(\d+)\.(\d+)", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def wheel_for(driver_cuda: tuple[int, int] | None) -> str | None:
    """The newest CUDA build this driver can run (None: none, update the driver)."""
    if driver_cuda is None:
        return None
    for tag, needs in CUDA_WHEELS:
        if needs <= driver_cuda:
            return tag
    return None


def decide(answer: DriverAnswer, torch_cuda: str | None, torch_sees_gpu: bool | None) -> Decision:
    """What the installed torch makes of the GPU the driver reports.

    `torch_cuda`: torch.version.cuda (None for a CPU-only build); `torch_sees_gpu`:
    torch.cuda.is_available() (None where torch is not installed yet, as in the noxfile).
    """
    driver_cuda = cuda_text(answer.cuda_version)
    if not answer.gpus:
        return Decision("no_gpu", torch_cuda=torch_cuda, driver_cuda=driver_cuda)
    if torch_sees_gpu:
        return Decision("usable", torch_cuda=torch_cuda, driver_cuda=driver_cuda)
    tag = wheel_for(answer.cuda_version)
    if torch_cuda is None:
        status = "cpu_build" if tag or answer.cuda_version is None else "driver_too_old"
        return Decision(status, tag, None, driver_cuda)
    needed = parse_cuda(torch_cuda)
    if answer.cuda_version is not None and needed is not None and answer.cuda_version < needed:
        return Decision("driver_too_old", tag, torch_cuda, driver_cuda)
    return Decision("not_usable", tag, torch_cuda, driver_cuda)


def install_command(decision: Decision, system: str, requirement: str = "torch") -> str | None:
    """The command that installs the CUDA build this machine needs, in its own shell
    (PowerShell on Windows), through the project's nox sessions."""
    if decision.index_url is None:
        return None
    if system == "Windows":
        return f'$env:TORCH_INDEX_URL="{decision.index_url}"; nox -s report'
    return f"TORCH_INDEX_URL={decision.index_url} nox -s report"


# --------------------------------------------------------------------------
# Asking the driver


def parse_nvidia_smi(summary: str, listing: str) -> DriverAnswer:
    """`nvidia-smi`'s header (driver and CUDA version) and `nvidia-smi -L` (one line a GPU)."""
    driver = re.search(r"Driver Version:\s*([\d.]+)", summary)
    cuda = re.search(r"CUDA Version:\s*([\d.]+)", summary)
    gpus = tuple(
        found.group(1).strip()
        for line in listing.splitlines()
        if (found := re.match(r"GPU \d+: (.+?)(?: \(UUID: [^)]*\))?$", line.strip()))
    )
    return DriverAnswer(
        gpus=gpus,
        driver_version=driver.group(1) if driver else None,
        cuda_version=parse_cuda(cuda.group(1)) if cuda else None,
        source="nvidia-smi" if gpus else "none",
        memory_bytes=tuple(None for _ in gpus),
    )


def query_nvidia_smi() -> DriverAnswer | None:
    """The driver's own tool: installed with every NVIDIA driver, needs no Python package
    (the noxfile asks it before any environment exists; the probe asks NVML first)."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        # nvidia-smi's output is ASCII: any code page decodes it, and nothing can fail here
        summary = subprocess.run(
            [tool], capture_output=True, timeout=20, encoding="utf-8", errors="replace"
        ).stdout
        listing = subprocess.run(
            [tool, "-L"], capture_output=True, timeout=20, encoding="utf-8", errors="replace"
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_nvidia_smi(summary, listing)
