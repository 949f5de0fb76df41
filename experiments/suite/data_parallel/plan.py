"""The data-parallel experiment's decisions, as pure functions of recorded facts (no torch).

Which backend a device uses, where each rank's tensors go, which process
counts to run, how many processes a node starts and the exact launcher command
are decided here, from plain values (device kinds, core and GPU counts, the
platform, a rendezvous endpoint), so tests pin every decision with recorded
inputs, GPU machines included, on a machine without a GPU.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# What each kind of device communicates with. The stand-in plays a CUDA GPU: a real one
# would use NCCL, so that is its intended backend; it runs gloo on CPU tensors instead.
INTENDED_BACKENDS = {"cpu": "gloo", "cuda": "nccl", "simulated": "nccl"}

# Kinds whose processes each drive one GPU, and which can also run nn.DataParallel.
GPU_KINDS = ("cuda", "simulated")

LAUNCHER = ("-m", "torch.distributed.run")
# torchrun as torchrun_windows.py runs it: its rendezvous store told not to use libuv, which
# PyPI's Windows builds lack (see that file)
WINDOWS_LAUNCHER = Path(__file__).resolve().with_name("torchrun_windows.py")

# The launcher forwards workers' stdout lines starting with PREFIX as progress (run_cases'
# lines start with its `what`), and reads a line starting with ERROR_PREFIX as a failure.
PREFIX = "data_parallel"
ERROR_PREFIX = "data_parallel:error "
RENDEZVOUS_BACKEND = "c10d"


def intended_backend(kind: str) -> str | None:
    """The process-group backend a real device of this kind uses (None: none exists, e.g. MPS)."""
    return INTENDED_BACKENDS.get(kind)


def backend(kind: str) -> str | None:
    """The backend that actually runs: the stand-in's CPU tensors need gloo."""
    return "gloo" if kind == "simulated" else intended_backend(kind)


def placement(kind: str, local_rank: int) -> str:
    """Where rank `local_rank` of a node keeps its model: one GPU per process (the stand-in
    records the GPU a real run would use), or the CPU."""
    return f"cuda:{local_rank}" if kind in GPU_KINDS else "cpu"


def process_counts(limit: int) -> tuple[int, ...]:
    """1, 2, 4, … below `limit`, then `limit` itself: every doubling, and all there is."""
    if limit < 1:
        return ()
    counts = []
    count = 1
    while count < limit:
        counts.append(count)
        count *= 2
    counts.append(limit)
    return tuple(counts)


@dataclass(frozen=True)
class Setup:
    """One way to train a workload: `method` single (one process, no wrapper), ddp (one
    process per device), independent (`processes` processes at once, each its own model and
    batch, no communication: what the machine gives that many processes, the most DDP could
    reach) or data_parallel (one process over `processes` GPUs); `scaling` baseline, strong
    (the workload's batch split) or weak (the workload's batch each)."""

    method: str
    scaling: str
    processes: int

    def global_batch(self, batch: int) -> int:
        return batch * self.processes if self.scaling == "weak" else batch

    def per_process_batch(self, batch: int) -> int:
        """Samples each process (ddp) or each GPU (data_parallel) works on per step."""
        return self.global_batch(batch) // self.processes

    @property
    def ranks(self) -> int:
        """How many processes take part: DataParallel is one process, whatever its GPUs."""
        return self.processes if self.method in ("ddp", "independent") else 1

    def divides(self, batch: int) -> bool:
        """Whether DDP's processes get equal shares (DataParallel splits unevenly itself)."""
        return self.method != "ddp" or self.global_batch(batch) % self.processes == 0


BASELINE = Setup("single", "baseline", 1)


def setups(counts: Sequence[int], dp_counts: Sequence[int]) -> list[Setup]:
    """The baseline; at every count of two or more DDP in both scalings and the processes
    without communication; DataParallel at every GPU count of two or more."""
    found = [BASELINE]
    for k in counts:
        if k >= 2:
            found += [
                Setup("ddp", "strong", k),
                Setup("ddp", "weak", k),
                Setup("independent", "weak", k),
            ]
    for k in dp_counts:
        found += [Setup("data_parallel", "strong", k), Setup("data_parallel", "weak", k)]
    return found


def checked_setup(k: int, batch: int) -> Setup:
    """The DDP layout the equality check uses at k processes: strong scaling where the batch
    splits evenly, else weak (each process a whole batch of its own)."""
    strong = Setup("ddp", "strong", k)
    return strong if strong.divides(batch) else Setup("ddp", "weak", k)


def data_parallel_counts(kind: str, counts: Sequence[int]) -> tuple[int, ...]:
    """nn.DataParallel runs one process over several GPUs: two or more, GPUs only."""
    return tuple(c for c in counts if c >= 2) if kind in GPU_KINDS else ()


def node_capacity(
    kind: str, *, physical_cores: int, cuda_devices: int, threads: int, simulated_gpus: int
) -> int:
    """How many processes of one node can measure this kind of device: one per GPU, or as many
    as the physical cores hold at `threads` threads each (at least one)."""
    if kind == "cpu":
        return max(1, physical_cores // threads)
    if kind == "cuda":
        return cuda_devices
    if kind == "simulated":
        return simulated_gpus
    return 0


def group_limit(ranks: Sequence[tuple[int, int]], cap: int = 0) -> int:
    """How many leading ranks can join: `ranks[r]` is (local rank, capacity of its node), and
    a rank can join while its local rank is below its node's capacity; `cap` > 0 caps it."""
    limit = 0
    for local_rank, capacity in ranks:
        if local_rank >= capacity:
            break
        limit += 1
    return min(limit, cap) if cap > 0 else limit


def nproc_per_node(capacities: Mapping[str, int], requested: int = 0, cap: int = 0) -> int:
    """Processes this node starts: as requested, or as many as its busiest kind of device can
    use (capped by `cap` > 0); always at least one."""
    if requested > 0:
        return requested
    wanted = max(capacities.values(), default=1)
    return max(1, min(wanted, cap) if cap > 0 else wanted)


def start_method(system: str) -> str:
    """How torchrun starts its workers. On Linux they fork from the launcher, which has imported
    torch already (about 2.5 s saved per worker on a small machine); elsewhere fork is unsafe
    (macOS) or absent (Windows), so each worker starts afresh."""
    return "fork" if system == "Linux" else "spawn"


def launcher(system: str) -> tuple[str, ...]:
    """torchrun's arguments to the interpreter on this platform."""
    return (str(WINDOWS_LAUNCHER),) if system == "Windows" else LAUNCHER


def platform_environment(system: str) -> dict[str, str]:
    """Environment a launch needs on this platform: PyPI's Windows builds lack libuv, which
    torchrun's TCPStore asks for by default since torch 2.4 (pytorch/pytorch#139990)."""
    return {"USE_LIBUV": "0"} if system == "Windows" else {}


def parse_endpoint(text: str) -> tuple[str, int]:
    """host:port (an IPv6 host in brackets) -> (host, port); ValueError names the problem."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"rdzv_endpoint must be HOST:PORT with a port 1-65535, got {text!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def rendezvous_conf(*, join_timeout_s: int, is_host: bool) -> str:
    """torchrun's --rdzv-conf: how long a node waits for the others to join, and for the store
    (read_timeout), and whether this node hosts the rendezvous store (the coordinator does)."""
    return (
        f"join_timeout={join_timeout_s},read_timeout={join_timeout_s},"
        f"close_timeout={join_timeout_s},is_host={'true' if is_host else 'false'}"
    )


def launcher_command(
    python: str,
    *,
    nnodes: int,
    nproc: int,
    endpoint: str,
    rdzv_id: str,
    join_timeout_s: int,
    shutdown_timeout_s: int,
    is_host: bool,
    local_addr: str | None,
    system: str,
    log_dir: Path,
    worker: Path,
    worker_args: Sequence[str],
) -> list[str]:
    """The torchrun command of one node: no restarts (a failure ends the experiment), every
    timeout explicit, the worker script run in the launcher's interpreter (`--run-path`)."""
    command = [
        python,
        *launcher(system),
        "--nnodes",
        str(nnodes),
        "--nproc-per-node",
        str(nproc),
        "--rdzv-backend",
        RENDEZVOUS_BACKEND,
        "--rdzv-endpoint",
        endpoint,
        "--rdzv-id",
        rdzv_id,
        "--rdzv-conf",
        rendezvous_conf(join_timeout_s=join_timeout_s, is_host=is_host),
        "--max-restarts",
        "0",
        "--monitor-interval",
        "0.1",
        "--shutdown-timeout",
        str(shutdown_timeout_s),
        "--start-method",
        start_method(system),
        "--log-dir",
        str(log_dir),
    ]
    if local_addr:
        command += ["--local-addr", local_addr]
    return [*command, "--run-path", str(worker), *worker_args]


def interface_for(address: str, interfaces: Mapping[str, Sequence[str]]) -> str | None:
    """The network interface that holds `address` (gloo binds there, so its connections take
    the same route as the rendezvous), from a table of interface name -> addresses."""
    for name, addresses in sorted(interfaces.items()):
        if address in addresses:
            return name
    return None
