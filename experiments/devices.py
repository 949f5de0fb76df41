"""The one place that knows how to talk to a particular kind of device.

Experiments touch a device only through `Device`: where tensors live, how to
wait for queued work, how much memory is in use. That keeps every GPU-only
branch reachable from a CPU test through `SimulatedDevice`, which runs on the
CPU but counts synchronisations and can stand in for a GPU in the control flow.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


class Device(ABC):
    """A place to run a measurement."""

    #: "cpu", "cuda", "mps" or "simulated"
    kind: str = ""
    #: True where the numbers do not describe real hardware.
    simulated: bool = False

    @property
    @abstractmethod
    def name(self) -> str:
        """Short id used in result files, e.g. "cpu", "cuda:0"."""

    @property
    @abstractmethod
    def torch_device(self) -> torch.device:
        """Where tensors for this device are allocated."""

    @abstractmethod
    def describe(self) -> str:
        """The hardware's own name, e.g. "NVIDIA GeForce RTX 3080 Ti"."""

    @abstractmethod
    def synchronize(self) -> None:
        """Wait until all queued work is finished, so a clock reading means something."""

    def memory_allocated(self) -> int | None:
        """Bytes held by tensors now, where the device's allocator can say."""
        return None

    def max_memory_allocated(self) -> int | None:
        return None

    def reset_peak_memory_stats(self) -> None:
        return None

    @property
    def is_accelerator(self) -> bool:
        return self.kind != "cpu"


class CpuDevice(Device):
    kind = "cpu"

    def __init__(self, model_name: str = "CPU") -> None:
        self._model_name = model_name

    @property
    def name(self) -> str:
        return "cpu"

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cpu")

    def describe(self) -> str:
        return self._model_name

    def synchronize(self) -> None:
        # CPU kernels run eagerly on the calling thread: nothing is queued.
        return None


class CudaDevice(Device):
    kind = "cuda"

    def __init__(self, index: int) -> None:
        self.index = index

    @property
    def name(self) -> str:
        return f"cuda:{self.index}"

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cuda", self.index)

    def describe(self) -> str:
        return str(torch.cuda.get_device_name(self.index))

    def synchronize(self) -> None:
        torch.cuda.synchronize(self.index)

    def memory_allocated(self) -> int | None:
        return int(torch.cuda.memory_allocated(self.index))

    def max_memory_allocated(self) -> int | None:
        return int(torch.cuda.max_memory_allocated(self.index))

    def reset_peak_memory_stats(self) -> None:
        torch.cuda.reset_peak_memory_stats(self.index)


class MpsDevice(Device):
    """Apple-silicon GPU: many students' laptops."""

    kind = "mps"

    @property
    def name(self) -> str:
        return "mps"

    @property
    def torch_device(self) -> torch.device:
        return torch.device("mps")

    def describe(self) -> str:
        return "Apple GPU (Metal Performance Shaders)"

    def synchronize(self) -> None:
        torch.mps.synchronize()

    def memory_allocated(self) -> int | None:
        return int(torch.mps.current_allocated_memory())


class SimulatedDevice(Device):
    """A stand-in accelerator for tests: CPU tensors, GPU-shaped bookkeeping.

    It counts synchronisations (so a test can prove the timer waits for queued
    work) and is labelled simulated in every result it produces.
    """

    kind = "simulated"
    simulated = True

    def __init__(self, label: str = "Simulated GPU") -> None:
        self.label = label
        self.synchronizations = 0

    @property
    def name(self) -> str:
        return "sim:0"

    @property
    def torch_device(self) -> torch.device:
        return torch.device("cpu")

    def describe(self) -> str:
        return self.label

    def synchronize(self) -> None:
        self.synchronizations += 1


def available_devices(cpu_model: str = "CPU") -> list[Device]:
    """Every device this machine offers torch: the CPU first, then each GPU."""
    devices: list[Device] = [CpuDevice(cpu_model)]
    if torch.cuda.is_available():
        devices.extend(CudaDevice(index) for index in range(torch.cuda.device_count()))
    if torch.backends.mps.is_available():
        devices.append(MpsDevice())
    return devices
