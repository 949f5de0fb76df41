"""The one place that knows how to talk to a particular kind of device.

Experiments touch a device only through `Device`: where tensors live, how to
wait for queued work, how much memory is in use. That keeps every GPU-only
branch reachable from a CPU test through `SimulatedDevice`, which runs on the
CPU but counts synchronisations and can stand in for a GPU in the control flow.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

import torch

# Eager runs of a step before it is captured (cuBLAS handles, allocator pools).
GRAPH_WARMUP_STEPS = 3


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

    #: Whether `capture` can record a step as a replayable graph.
    supports_graphs: bool = False

    @property
    def can_search_memory(self) -> bool:
        """Whether running out of memory is a recoverable exception here (a GPU's allocator),
        so the largest batch can be found by trying; on a CPU the kernel kills the process."""
        return False

    @contextlib.contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        """Account for `nbytes` in use while the block runs (only the stand-in needs this:
        a real device's allocator sees the tensors themselves)."""
        yield

    def empty_cache(self) -> None:
        """Give cached, unused memory back to the device after an out-of-memory error."""
        return None

    def set_memory_fraction(self, fraction: float) -> None:
        """Cap this process's share of the device's memory (for the batch-size search)."""
        return None

    def capture(
        self, step: Callable[[], None], before_capture: Callable[[], None]
    ) -> Callable[[], None]:
        """Record `step` once (after warm-up runs) and return a function that replays it.

        `before_capture` runs before each warm-up and the capture (and, where the
        replay is emulated, before each replay): it puts state such as gradients
        into the form the captured step expects.
        """
        raise RuntimeError(f"{self.kind} devices cannot capture graphs")


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

    supports_graphs = True

    @property
    def can_search_memory(self) -> bool:
        return True

    def empty_cache(self) -> None:
        torch.cuda.empty_cache()

    def set_memory_fraction(self, fraction: float) -> None:
        torch.cuda.set_per_process_memory_fraction(fraction, self.index)

    def capture(
        self, step: Callable[[], None], before_capture: Callable[[], None]
    ) -> Callable[[], None]:
        """Whole-step capture as in torch.cuda.graph's documentation: warm up on a side
        stream, then record; replays reuse the captured memory, so inputs must stay put."""
        current = torch.cuda.current_stream(self.index)
        side = torch.cuda.Stream(self.index)  # type: ignore[no-untyped-call]
        side.wait_stream(current)
        with torch.cuda.stream(side):
            for _ in range(GRAPH_WARMUP_STEPS):
                before_capture()
                step()
        current.wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        before_capture()
        with torch.cuda.graph(graph):
            step()
        return graph.replay


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

    def __init__(self, label: str = "Simulated GPU", memory_budget: int | None = None) -> None:
        self.label = label
        self.synchronizations = 0
        self.captures = 0
        self.replays = 0
        self.memory_budget = memory_budget
        self.held = 0
        self.fraction = 1.0
        self.cache_emptied = 0

    @property
    def can_search_memory(self) -> bool:
        """Only with a budget: without one, "trying" would allocate real host memory."""
        return self.memory_budget is not None

    def memory_allocated(self) -> int | None:
        return self.held

    @contextlib.contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        """Raise torch.OutOfMemoryError, as a GPU's allocator would, past the budget."""
        if (
            self.memory_budget is not None
            and self.held + nbytes > self.memory_budget * self.fraction
        ):
            raise torch.OutOfMemoryError(
                f"simulated: tried to hold {nbytes} B with {self.held} B in use "
                f"and a budget of {self.memory_budget} B × {self.fraction}"
            )
        self.held += nbytes
        try:
            yield
        finally:
            self.held -= nbytes

    def empty_cache(self) -> None:
        self.cache_emptied += 1

    def set_memory_fraction(self, fraction: float) -> None:
        self.fraction = fraction

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

    supports_graphs = True

    def capture(
        self, step: Callable[[], None], before_capture: Callable[[], None]
    ) -> Callable[[], None]:
        """The CUDA protocol (warm-ups, then one capture) run eagerly; a replay re-runs
        the step, after `before_capture`, which is what a captured step computes."""
        for _ in range(GRAPH_WARMUP_STEPS):
            before_capture()
            step()
        before_capture()
        self.captures += 1

        def replay() -> None:
            self.replays += 1
            before_capture()
            step()

        return replay


def available_devices(cpu_model: str = "CPU") -> list[Device]:
    """Every device this machine offers torch: the CPU first, then each GPU."""
    devices: list[Device] = [CpuDevice(cpu_model)]
    if torch.cuda.is_available():
        devices.extend(CudaDevice(index) for index in range(torch.cuda.device_count()))
    if torch.backends.mps.is_available():
        devices.append(MpsDevice())
    return devices
