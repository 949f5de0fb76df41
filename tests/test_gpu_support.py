"""An NVIDIA GPU that the installed torch cannot use: found apart from torch, named in the
report with the command that fixes it, and chosen for by the noxfile. No GPU here, so the
driver's answers are recorded ones (nvidia-smi output of a Windows laptop, NVML values)."""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from experiments.contract import gpu_support
from experiments.contract.gpu_support import DriverAnswer, decide, install_command
from report import cli as report_cli
from report.render.load import load_run
from report.render.sections.machine import unused_gpu
from tests.conftest import FIXTURES, ROOT
from tests.html_text import text_of

# `nvidia-smi` and `nvidia-smi -L` on a Windows 11 laptop with an RTX 3080 Ti (driver 551.86)
SMI_SUMMARY = """\
Sun Nov 22 12:00:00 2026
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 551.86                 Driver Version: 551.86         CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                     TCC/WDDM  | Bus-Id          Disp.A | Volatile Uncorr. ECC |
|   0  NVIDIA GeForce RTX 3080 Ti   WDDM  |   00000000:01:00.0  On |                  N/A |
+-----------------------------------------+------------------------+----------------------+
"""
SMI_LIST = "GPU 0: NVIDIA GeForce RTX 3080 Ti (UUID: GPU-6f1c9a0e-5f7d-524a-b2c3-d4e5f6a7b8c9)\n"

RTX = DriverAnswer(("NVIDIA GeForce RTX 3080 Ti",), "560.94", (12, 6), "nvml", (12884901888,))
OLD_DRIVER = DriverAnswer(("NVIDIA GeForce GTX 1650",), "512.15", (11, 6), "nvml", (4294967296,))


def test_nvidia_smi_output_is_read() -> None:
    answer = gpu_support.parse_nvidia_smi(SMI_SUMMARY, SMI_LIST)
    assert answer.gpus == ("NVIDIA GeForce RTX 3080 Ti",)
    assert answer.driver_version == "551.86"
    assert answer.cuda_version == (12, 4)
    assert gpu_support.parse_nvidia_smi("", "").gpus == ()


def test_nvml_cuda_version_numbers() -> None:
    assert gpu_support.parse_cuda("12040") == (12, 4)
    assert gpu_support.parse_cuda("13000") == (13, 0)
    assert gpu_support.parse_cuda("12.8") == (12, 8)


@pytest.mark.parametrize(
    ("answer", "torch_cuda", "sees", "status", "tag"),
    [
        (DriverAnswer(), None, False, "no_gpu", None),  # no GPU (this machine)
        (RTX, None, False, "cpu_build", "cu126"),  # GPU + CPU build (Windows from PyPI)
        (RTX, "12.6", True, "usable", None),  # GPU + CUDA build
        (DriverAnswer(("RTX",), "551.86", (12, 4), "nvml"), "12.8", False, "driver_too_old", None),
        (OLD_DRIVER, None, False, "driver_too_old", None),  # too old for every CUDA build
        (DriverAnswer(("RTX",), "580.1", (13, 0), "nvml"), None, False, "cpu_build", "cu130"),
        (RTX, "12.6", False, "not_usable", "cu126"),  # new enough, yet unseen
    ],
)
def test_the_decision_for_recorded_driver_answers(
    answer: DriverAnswer, torch_cuda: str | None, sees: bool, status: str, tag: str | None
) -> None:
    decision = decide(answer, torch_cuda, sees)
    assert (decision.status, decision.tag) == (status, tag)


def test_the_install_command_is_the_shell_of_the_os() -> None:
    decision = decide(RTX, None, False)
    assert install_command(decision, "Windows") == (
        '$env:TORCH_INDEX_URL="https://download.pytorch.org/whl/cu126"; nox -s report'
    )
    assert install_command(decision, "Linux") == (
        "TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126 nox -s report"
    )
    assert install_command(decide(OLD_DRIVER, None, False), "Windows") is None


def _with_unused_gpu(tmp_path: Path, system: str, answer: DriverAnswer) -> Path:
    from experiments.core import probe

    run_dir = tmp_path / "run"
    shutil.copytree(next((FIXTURES / "fixture-machine-a").iterdir()), run_dir)
    path = run_dir / "environment.json"
    environment = json.loads(path.read_text(encoding="utf-8"))
    environment["os"]["system"] = system
    environment["nvidia"] = probe.nvidia_record(answer, decide(answer, None, False))
    path.write_text(json.dumps(environment), encoding="utf-8")
    return run_dir


@pytest.mark.slow
def test_a_gpu_torch_cannot_use_is_named_with_the_fix(tmp_path: Path) -> None:
    run_dir = _with_unused_gpu(tmp_path, "Windows", RTX)
    assert report_cli.main(["render", str(run_dir), "--no-pdf", "--lang", "en"]) == 0
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    unused = unused_gpu(load_run(run_dir).environment)
    assert unused is not None and unused["names"] == "NVIDIA GeForce RTX 3080 Ti"
    assert not unused["update_driver"]
    assert unused["command"] == (
        '$env:TORCH_INDEX_URL="https://download.pytorch.org/whl/cu126"; nox -s report'
    )
    # the first page says it, with the command; the machine section lists the GPU from NVML
    summary = text_of(html, "unused-gpu")
    assert "NVIDIA GeForce RTX 3080 Ti" in summary and "2.13.0+cpu" in summary
    assert unused["command"] in summary
    machine = text_of(html, "machine")
    assert "generation 30 (Ampere); tier 80" in machine and "12.0\u00a0GiB" in machine
    assert load_run(run_dir).environment["gpus"] == []  # torch saw none: not "no GPU found"


@pytest.mark.slow
def test_a_driver_too_old_asks_for_a_driver_update(tmp_path: Path) -> None:
    run_dir = _with_unused_gpu(tmp_path, "Linux", OLD_DRIVER)
    assert report_cli.main(["render", str(run_dir), "--no-pdf", "--lang", "en"]) == 0
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    unused = unused_gpu(load_run(run_dir).environment)
    assert unused is not None and unused["update_driver"] and unused["command"] is None
    assert (unused["driver"], unused["driver_cuda"]) == ("512.15", "11.6")
    summary = text_of(html, "unused-gpu")
    assert "512.15" in summary and "11.6" in summary


@pytest.mark.slow
def test_without_any_gpu_the_report_says_what_it_said() -> None:
    from experiments.core import probe

    environment = probe.probe()  # this machine: no GPU, no NVML
    assert environment["nvidia"]["status"] == "no_gpu"
    assert environment["nvidia"]["gpus"] == []


@functools.cache
def _noxfile() -> ModuleType:
    """The noxfile, loaded once (nox registers each session at import)."""
    spec = importlib.util.spec_from_file_location("noxfile_under_test", ROOT / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Session:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, line: str) -> None:
        self.lines.append(line)


@pytest.mark.parametrize(
    ("system", "answer", "chosen", "said"),
    [
        ("Windows", RTX, "https://download.pytorch.org/whl/cu126", "installing torch from"),
        ("Windows", OLD_DRIVER, "", "too old for any CUDA build"),
        ("Windows", DriverAnswer(), "", None),
        ("Linux", RTX, "", None),  # PyPI's Linux wheel is a CUDA build already
    ],
)
def test_the_noxfile_picks_the_cuda_index_where_pypi_has_none(
    monkeypatch: pytest.MonkeyPatch,
    system: str,
    answer: DriverAnswer,
    chosen: str,
    said: str | None,
) -> None:
    noxfile = _noxfile()
    monkeypatch.delenv("TORCH_INDEX_URL", raising=False)
    monkeypatch.setattr(noxfile.platform, "system", lambda: system)
    monkeypatch.setattr(gpu_support, "query_nvidia_smi", lambda: answer)
    monkeypatch.setattr(noxfile, "_wheels", lambda: gpu_support)
    session = _Session()
    assert noxfile.torch_index(session) == chosen
    if said is None:
        assert session.lines == []
    else:
        assert len(session.lines) == 1 and said in session.lines[0]
        assert "TORCH_INDEX_URL" in session.lines[0] or "driver" in session.lines[0]
    monkeypatch.setenv("TORCH_INDEX_URL", "https://download.pytorch.org/whl/cpu")
    assert noxfile.torch_index(session) == "https://download.pytorch.org/whl/cpu"
