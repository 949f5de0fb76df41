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

from dataclasses import dataclass, replace
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.settings import SEED, Settings, setting
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
from experiments.workloads.catalog import MODELS

# The notes' MNIST MLP of note 003 (784-128-10, 101,770 parameters) and the wide MLP of the
# mixed-precision experiment (1024-2048-2048-10, about 6.3 million): little and much
# arithmetic for every byte of gradient to all-reduce.
WORKLOADS = ("mnist_mlp", "wide_mlp")
assert all(name in MODELS for name in WORKLOADS)


@dataclass(frozen=True)
class Config(Settings):
    seed: int = setting(0, **SEED)  # weights and data
    workloads: tuple[str, ...] = setting(WORKLOADS, choices=WORKLOADS)
    # per workload: the global batch of strong scaling, which is also each process's batch
    # in weak scaling and the batch one process trains on alone
    batches: tuple[int, ...] = setting((64, 256), low=1, high=1 << 20)
    steps: tuple[int, ...] = setting((50, 5), low=1, high=1_000_000)  # per timed repeat
    warmup: int = setting(1, low=1, high=100)  # discarded runs of every configuration
    # timed runs per configuration, each read in chunks; a diff compares the repeats (10 per
    # side can reach a family-wise level, 5 never could)
    repeats: int = setting(10, low=1, high=1000)
    threads: int = setting(1, low=1, high=1024)  # torch threads per process on a CPU
    max_processes: int = setting(0, low=0, high=4096)  # 0: one per physical core or GPU
    lr: float = setting(0.01, low=0, low_open=True, high=10)  # SGD, as in the notes
    check_steps: int = setting(5, low=1, high=10_000)  # steps of the equality check
    # largest |Δ parameter| that counts as the same model
    tolerance: float = setting(1e-5, low=0, low_open=True, high=1, high_open=True)
    # the all-reduce sweep (bytes; float32, so multiples of 4) and all-reduces per timed run
    allreduce_sizes: tuple[int, ...] = setting(
        (4096, 16384, 65536, 262144, 1048576, 4194304, 16777216), low=4, high=1 << 34
    )
    allreduce_rounds: int = setting(10, low=1, high=100_000)
    simulated_gpus: int = setting(2, low=1, high=64)  # GPUs a stand-in device plays (tests)
    # several machines (README): nodes, processes on this one, the coordinator's HOST:PORT
    nnodes: int = setting(1, low=1, high=1024)
    nproc_per_node: int = setting(0, low=0, high=4096)  # 0: as many as the devices can use
    rdzv_endpoint: str = ""  # empty: 127.0.0.1 on a free port (one machine)
    rdzv_id: str = "data_parallel"
    # bounds on every wait, in seconds: the others joining, one collective, the whole launch,
    # and a worker's grace between SIGTERM and SIGKILL when the launch is torn down
    join_timeout_s: int = setting(60, low=1, high=86_400)
    collective_timeout_s: int = setting(60, low=1, high=86_400)
    launch_timeout_s: int = setting(600, low=1, high=7 * 86_400)
    shutdown_timeout_s: int = setting(5, low=1, high=3600)

    def check(self) -> None:
        if len(self.batches) != len(self.workloads):
            raise ValueError("batches needs one batch per workload")
        if len(self.steps) != len(self.workloads):
            raise ValueError("steps needs one count per workload")
        if len(self.allreduce_sizes) < 2 or any(s % 4 for s in self.allreduce_sizes):
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


TIMED = {
    "warmup_s": [NUMBER],
    "step_s": [NUMBER],
    "summary": SUMMARY_SPEC,
    "chunk_step_s?": [NUMBER],  # per step, of each chunk of a repeat
}

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
    """One value per repeat, not per chunk: the processes' speed wanders 2-3× over seconds
    on a shared machine (repeat medians 3.9 → 11 ms within one run here) while the chunks
    of one repeat see one moment, and the reference workloads, timed in the parent process
    before and after the launch, cannot see the moments between. Chunk values called 2×
    differences between two runs of one machine in 3 of 10 A/A pairs; repeats, which are
    interleaved with the other configurations' over the whole launch, each sample their
    own moment. Several processes share the CPU's cores, whichever device they drive."""
    found = device_metrics(
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
    threads = {e["device"]: e["threads_per_process"] for e in data["per_device"]}
    return [
        replace(
            m,
            several_cores=m.params["processes"] > 1 or threads.get(m.device, 1) > 1,
        )
        for m in found
    ]


# Timed repeats a worker's launch keeps: its values are repeats, not chunks (the chunks of
# one repeat see one moment, see `metrics`), and three interleaved repeats are what a
# launch's fixed cost (about 4 s of torchrun, imports and rendezvous here) leaves room for.
REPLICA_REPEATS = 3


def replica(config: Config) -> Config | None:
    """One more process's values: a launch of its own (fresh ranks), with half the steps,
    three repeats, a one-step equality check and the smallest all-reduce sweep. None for a
    run given other nodes or a fixed rendezvous endpoint (README: "Data parallelism on two
    machines"): a worker cannot call the other machines back, nor count on a fixed port
    that the run's own launch has only just let go."""
    if config.nnodes > 1 or config.rdzv_endpoint:
        return None
    return replace(
        config,
        warmup=1,
        repeats=min(config.repeats, REPLICA_REPEATS),
        steps=tuple(max(1, s // 2) for s in config.steps),
        check_steps=1,
        allreduce_sizes=config.allreduce_sizes[:2],
        allreduce_rounds=1,
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
            repeats=10,
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
    replica=replica,
    # a replica's launch (torchrun, its ranks' imports, the rendezvous: about 4 s of its 7 s
    # here) is most of a default round's 17 s: 2 of the 3 rounds keep the default run
    # within a minute of what it took before the workers
    replica_sits_out={"default": 1},
)
