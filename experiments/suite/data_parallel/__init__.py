"""Experiment 7 of the notes (004, the second of its three speed-ups): data parallelism.

The training loop spread over 1, 2, … processes with DistributedDataParallel,
launched by torchrun (gloo on CPUs, NCCL on CUDA GPUs; nn.DataParallel beside
it where two or more GPUs exist), in strong scaling (a fixed global batch
split between the processes) and weak scaling (a fixed batch per process).
Per configuration: time per step, the all-reduce of the gradients timed apart,
its bytes and buckets, and proof that the processes together train the same
model as one process on the whole batch. The same experiment spans machines
through torchrun's rendezvous (README: "Data parallelism on two machines").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.shapes import (
    NUMBER,
    OPT_NUMBER,
    OPT_STR,
    REASON_SPEC,
    SUMMARY_SPEC,
    Nullable,
    device_entry,
)
from experiments.suite.data_parallel.plan import parse_endpoint
from experiments.workloads.catalog import MODELS, check_names

# The notes' MNIST MLP of note 003 (784-128-10, 101,770 parameters) and the wide MLP of the
# mixed-precision experiment (1024-2048-2048-10, about 6.3 million): little and much
# arithmetic for every byte of gradient to all-reduce.
WORKLOADS = ("mnist_mlp", "wide_mlp")
assert all(name in MODELS for name in WORKLOADS)


@dataclass(frozen=True)
class Config:
    seed: int = 0  # weights and data
    workloads: tuple[str, ...] = WORKLOADS
    # per workload: the global batch of strong scaling, which is also each process's batch
    # in weak scaling and the batch one process trains on alone
    batches: tuple[int, ...] = (64, 256)
    steps: tuple[int, ...] = (100, 10)  # training steps per timed repeat, per workload
    warmup: int = 1  # discarded runs of every configuration
    repeats: int = 5  # timed runs of every configuration, interleaved
    threads: int = 1  # torch threads per process on a CPU: one core each
    max_processes: int = 0  # 0: one per physical core (CPU) or per GPU
    lr: float = 0.01  # SGD, as in the notes
    check_steps: int = 5  # steps of the equality check against one process
    tolerance: float = 1e-5  # largest |Δ parameter| that counts as the same model
    # the all-reduce sweep (bytes; float32, so multiples of 4) and all-reduces per timed run
    allreduce_sizes: tuple[int, ...] = (4096, 16384, 65536, 262144, 1048576, 4194304, 16777216)
    allreduce_rounds: int = 10
    simulated_gpus: int = 2  # how many GPUs a stand-in device plays (tests only)
    # several machines (README): nodes, processes on this one, the coordinator's HOST:PORT
    nnodes: int = 1
    nproc_per_node: int = 0  # 0: as many as this machine's devices can use
    rdzv_endpoint: str = ""  # empty: 127.0.0.1 on a free port (one machine)
    rdzv_id: str = "data_parallel"
    # bounds on every wait, in seconds: the others joining, one collective, the whole launch,
    # and a worker's grace between SIGTERM and SIGKILL when the launch is torn down
    join_timeout_s: int = 60
    collective_timeout_s: int = 60
    launch_timeout_s: int = 600
    shutdown_timeout_s: int = 5

    def __post_init__(self) -> None:
        check_names("workloads", self.workloads, WORKLOADS)
        if not self.workloads:
            raise ValueError("workloads must name at least one workload")
        if len(self.batches) != len(self.workloads) or min(self.batches) < 1:
            raise ValueError("batches needs one positive batch per workload")
        if len(self.steps) != len(self.workloads) or min(self.steps) < 1:
            raise ValueError("steps needs one positive count per workload")
        positive = {
            "warmup": self.warmup,
            "repeats": self.repeats,
            "threads": self.threads,
            "check_steps": self.check_steps,
            "allreduce_rounds": self.allreduce_rounds,
            "simulated_gpus": self.simulated_gpus,
            "nnodes": self.nnodes,
            "join_timeout_s": self.join_timeout_s,
            "collective_timeout_s": self.collective_timeout_s,
            "launch_timeout_s": self.launch_timeout_s,
            "shutdown_timeout_s": self.shutdown_timeout_s,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.max_processes < 0 or self.nproc_per_node < 0:
            raise ValueError("max_processes and nproc_per_node must be 0 (automatic) or more")
        if not 0 < self.tolerance < 1 or self.lr <= 0:
            raise ValueError("tolerance must be in (0, 1) and lr positive")
        if len(self.allreduce_sizes) < 2 or any(s < 4 or s % 4 for s in self.allreduce_sizes):
            raise ValueError("allreduce_sizes needs two or more byte counts, multiples of 4")
        if list(self.allreduce_sizes) != sorted(set(self.allreduce_sizes)):
            raise ValueError("allreduce_sizes must grow strictly")
        if self.rdzv_endpoint:
            parse_endpoint(self.rdzv_endpoint)
        elif self.nnodes > 1:
            raise ValueError("nnodes > 1 needs rdzv_endpoint, the coordinator's HOST:PORT")
        if not self.rdzv_id.replace("_", "").replace("-", "").isalnum():
            raise ValueError("rdzv_id may hold letters, digits, '-' and '_' only")
        if self.launch_timeout_s <= self.join_timeout_s + self.collective_timeout_s:
            raise ValueError("launch_timeout_s must exceed join_timeout_s + collective_timeout_s")


TIMED = {"warmup_s": [NUMBER], "step_s": [NUMBER], "summary": SUMMARY_SPEC}

RUN_SPEC = {
    "method": str,  # single (one process, no wrapper), ddp, data_parallel
    "scaling": str,  # baseline, strong, weak
    "processes": int,  # processes (ddp) or GPUs (data_parallel)
    "nodes": int,  # machines the processes span
    "per_process_batch": int,
    "global_batch": int,
    "unsupported": Nullable(REASON_SPEC),
    **TIMED,  # per step; the slowest rank's clock
    "rank_step_s": [[NUMBER]],  # per rank, per repeat
    "allreduce": Nullable(TIMED),  # this configuration's buckets all-reduced alone, per step
    "max_parameter_difference": OPT_NUMBER,  # against one process on the global batch
    "replica_difference": OPT_NUMBER,  # largest difference between the ranks' parameters
}

DATA_SPEC = {
    "launch": {
        "launcher": str,
        "rdzv_backend": str,
        "start_method": str,
        "nnodes": int,
        "nproc_per_node": int,
        "world_size": int,
        "loopback": bool,
        "timeouts_s": {"*": int},
        "startup_s": OPT_NUMBER,  # from starting torchrun to the workers' first message
        "wall_s": NUMBER,
    },
    "nodes": [{"node": int, "ranks": [int], "coordinator": bool, "environment": dict}],
    "tolerance": NUMBER,
    "check_steps": int,
    "per_device": [
        device_entry(
            kind=str,
            backend=OPT_STR,  # what ran
            intended_backend=OPT_STR,  # what a real device of this kind uses
            placement=[str],  # each rank's device, as a real run places it
            unsupported=Nullable(REASON_SPEC),
            process_counts=[int],
            threads_per_process=int,
            workloads=[
                {
                    "workload": str,
                    "widths": [int],
                    "parameters": int,
                    "gradient_bytes": int,
                    "buckets": [int],  # bytes of each bucket DDP all-reduces, in order
                    "batch": int,
                    "steps": int,
                    "matmul_flops_per_sample": int,
                    "runs": [RUN_SPEC],
                }
            ],
            allreduce_sweep=[
                {
                    "processes": int,
                    "nodes": int,
                    "sizes": [{"bytes": int, "warmup_s": [NUMBER], "time_s": [NUMBER]}],
                }
            ],
        )
    ],
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["per_device"],
        lambda e: [
            (
                f"{w['workload']}/{r['method']}/{r['scaling']}/{r['processes']}",
                N_("{workload}, {method}, {scaling}, processes: {processes}"),
                {k: r[k] for k in ("method", "scaling", "processes")} | {"workload": w["workload"]},
                r["step_s"],
            )
            for w in e["workloads"]
            for r in w["runs"]
        ],
    )


DECLARATION = Declaration(
    name="data_parallel",
    order=70,
    title=N_("Data parallelism: one training loop on several processes"),
    config=Config,
    profiles={
        "default": Config(),
        "quick": Config(
            steps=(20, 2),
            repeats=3,
            check_steps=2,
            allreduce_sizes=(4096, 262144, 4194304),
            allreduce_rounds=5,
            launch_timeout_s=300,
        ),
        "smoke": Config(
            workloads=("mnist_mlp",),
            batches=(16,),
            steps=(3,),
            repeats=2,
            check_steps=2,
            allreduce_sizes=(4096, 65536, 1048576),
            allreduce_rounds=2,
            join_timeout_s=30,
            collective_timeout_s=30,
            launch_timeout_s=120,
        ),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
)
