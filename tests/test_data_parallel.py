"""Data parallelism: the decisions (backends, placement, process counts, the launcher command)
on recorded machines; the shared smoke run's 1 and 2 processes, equal parameters, exact bucket
bytes and the stand-in's GPU branches; two torchrun nodes on the loopback address; and a
launch that never hangs: a killed worker fails the experiment quickly and leaves no process."""

from __future__ import annotations

import dataclasses
import importlib
import io
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import psutil
import pytest
import torch
import torch.distributed as dist

from experiments.contract import declaration
from experiments.contract import format as rf
from experiments.contract.declaration import Declaration
from experiments.contract.shapes import check_shape
from experiments.core import runner
from experiments.core.devices import CpuDevice
from experiments.core.harness import Progress, RunContext
from experiments.core.replicas import replica_config
from experiments.suite.data_parallel import (
    DATA_SPEC,
    DECLARATION,
    Config,
    hooks,
    launch,
    measure,
    plan,
    results,
    training,
)
from experiments.workloads import catalog, data
from report.render import page
from report.render.load import load_run
from report.render.sections import title
from tests.conftest import ROOT
from tests.html_text import heading_of, text_of
from tests.standin import STAND_IN
from tests.test_runner import ToyConfig

MNIST_GRADIENT_BYTES = 4 * 101_770  # float32 gradients of 784-128-10
WIDE_BUCKETS = [16_867_368, 8_396_800]  # DDP's buckets of 1024-2048-2048-10, after the first step


def _ctx(progress: Progress | None = None) -> RunContext:
    return RunContext(progress=progress or Progress(stream=io.StringIO()), physical_cores=2)


# --------------------------------------------------------------------------
# Decisions, from recorded inputs


def test_backends_and_placement_follow_the_device_kind() -> None:
    assert [plan.intended_backend(k) for k in ("cpu", "cuda", "simulated", "mps")] == [
        "gloo",
        "nccl",
        "nccl",  # the stand-in plays a CUDA GPU …
        None,
    ]
    assert plan.backend("simulated") == "gloo"  # … and runs gloo on CPU tensors
    assert [plan.placement(k, 1) for k in ("cpu", "cuda", "simulated")] == [
        "cpu",
        "cuda:1",
        "cuda:1",
    ]


@pytest.mark.parametrize(
    ("limit", "counts"),
    [(0, ()), (1, (1,)), (2, (1, 2)), (6, (1, 2, 4, 6)), (8, (1, 2, 4, 8)), (12, (1, 2, 4, 8, 12))],
)
def test_process_counts_double_up_to_the_limit(limit: int, counts: tuple[int, ...]) -> None:
    assert plan.process_counts(limit) == counts


def test_recorded_machines_get_their_processes() -> None:
    def capacity(kind: str, cores: int, gpus: int, threads: int = 1) -> int:
        return plan.node_capacity(
            kind, physical_cores=cores, cuda_devices=gpus, threads=threads, simulated_gpus=2
        )

    # a student's laptop: 8 cores, one GeForce GPU: nothing to spread over on the GPU
    laptop = {k: capacity(k, 8, 1) for k in ("cpu", "cuda")}
    assert (laptop, plan.nproc_per_node(laptop)) == ({"cpu": 8, "cuda": 1}, 8)
    assert plan.data_parallel_counts("cuda", plan.process_counts(laptop["cuda"])) == ()
    # a workstation: 16 cores at 2 threads a process, 4 GPUs
    station = {k: capacity(k, 16, 4, threads=2) for k in ("cpu", "cuda")}
    assert station == {"cpu": 8, "cuda": 4}
    assert plan.data_parallel_counts("cuda", plan.process_counts(4)) == (2, 4)
    assert plan.data_parallel_counts("cpu", plan.process_counts(8)) == ()
    assert plan.nproc_per_node(station, cap=2) == 2 and plan.nproc_per_node(station, 3) == 3
    # two machines with one process each: (local rank, the node's capacity) per rank
    assert plan.group_limit([(0, 2), (0, 2)]) == 2
    assert plan.group_limit([(0, 1), (0, 0)]) == 1  # the second machine has no GPU
    assert plan.group_limit([(0, 8), (1, 8), (2, 8)], cap=2) == 2


def test_setups_and_the_checked_layout() -> None:
    names = [(s.method, s.scaling, s.processes) for s in plan.setups((1, 2), (2,))]
    assert names == [
        ("single", "baseline", 1),
        ("ddp", "strong", 2),
        ("ddp", "weak", 2),
        ("independent", "weak", 2),
        ("data_parallel", "strong", 2),
        ("data_parallel", "weak", 2),
    ]
    weak = plan.Setup("ddp", "weak", 6)
    assert (weak.global_batch(64), weak.per_process_batch(64), weak.ranks) == (384, 64, 6)
    assert not plan.Setup("ddp", "strong", 6).divides(64)  # 64 samples, 6 processes
    assert plan.checked_setup(6, 64) == weak and plan.checked_setup(2, 64).scaling == "strong"
    assert plan.Setup("data_parallel", "strong", 3).divides(64)  # it splits unevenly itself
    assert plan.Setup("data_parallel", "strong", 3).ranks == 1


def test_the_launcher_command_is_torchrun_with_every_timeout_explicit(tmp_path: Path) -> None:
    command = plan.launcher_command(
        "/venv/bin/python",
        nnodes=2,
        nproc=1,
        endpoint="192.168.1.10:29400",
        rdzv_id="data_parallel",
        join_timeout_s=60,
        shutdown_timeout_s=5,
        is_host=True,
        local_addr="192.168.1.10",
        system="Linux",
        log_dir=tmp_path,
        worker=Path("/w.py"),
        worker_args=["--collective-timeout-s", "60"],
    )
    assert command == [
        "/venv/bin/python",
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "2",
        "--nproc-per-node",
        "1",
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        "192.168.1.10:29400",
        "--rdzv-id",
        "data_parallel",
        "--rdzv-conf",
        "join_timeout=60,read_timeout=60,close_timeout=60,is_host=true",
        "--max-restarts",
        "0",
        "--monitor-interval",
        "0.1",
        "--shutdown-timeout",
        "5",
        "--start-method",
        "fork",
        "--log-dir",
        str(tmp_path),
        "--local-addr",
        "192.168.1.10",
        "--run-path",
        "/w.py",
        "--collective-timeout-s",
        "60",
    ]
    assert plan.start_method("Windows") == plan.start_method("Darwin") == "spawn"
    assert plan.launcher("Darwin") == ("-m", "torch.distributed.run")
    assert plan.launcher("Windows") == (str(plan.WINDOWS_LAUNCHER),)
    assert plan.WINDOWS_LAUNCHER.is_file()
    assert plan.platform_environment("Windows") == {"USE_LIBUV": "0"}
    assert plan.platform_environment("Linux") == plan.platform_environment("Darwin") == {}


def test_endpoints_interfaces_and_loopback() -> None:
    assert plan.parse_endpoint("192.168.1.10:29400") == ("192.168.1.10", 29400)
    assert plan.parse_endpoint("[::1]:29400") == ("::1", 29400)
    for bad in ("192.168.1.10", ":29400", "host:0", "host:99999", "host:port"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            plan.parse_endpoint(bad)
    table = {"lo": ["127.0.0.1", "::1"], "eth0": ["10.0.0.5", "fe80::1"]}
    assert plan.interface_for("127.0.0.1", table) == "lo"
    assert plan.interface_for("10.0.0.5", table) == "eth0"
    assert plan.interface_for("10.9.9.9", table) is None
    assert plan.is_loopback("127.0.0.1") and plan.is_loopback("localhost")
    assert not plan.is_loopback("192.168.1.10") and not plan.is_loopback("a-host")
    assert launch.local_address("127.0.0.1", 1) == "127.0.0.1"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nnodes": 2}, "needs rdzv_endpoint"),
        ({"rdzv_endpoint": "nohost"}, "HOST:PORT"),
        ({"batches": (64,)}, "batches needs one batch per workload"),
        ({"allreduce_sizes": (4096, 4098)}, "multiples of 4"),
        ({"allreduce_sizes": (65536, 4096)}, "grow strictly"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"threads": 0}, r"threads must be in \[1, 1024\], got 0"),
        ({"launch_timeout_s": 100}, "launch_timeout_s must exceed"),
        ({"rdzv_id": "a b"}, "rdzv_id"),
        (
            {"workloads": ("iris_mlp",), "batches": (1,), "steps": (1,)},
            r"workloads: 'iris_mlp' is not one of \['mnist_mlp', 'wide_mlp'\]",
        ),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(Config(), **changes)


def test_gathered_findings_become_entries_slowest_rank_first() -> None:
    """Recorded findings of two ranks: a batch of 5 does not split in two (strong scaling is
    not run, the check used weak scaling), and a GPU group that rank 0 lacks is unmeasured."""
    groups = [
        {"device": "cpu", "device_name": "A CPU", "simulated": False, "kind": "cpu"},
        {"device": "cuda:0", "device_name": "A GPU", "simulated": False, "kind": "cuda"},
    ]
    mnist = {"workload": "mnist_mlp", "widths": [784, 128, 10], "sample_shape": [1, 28, 28]}
    config = {
        "groups": groups,
        "workloads": [{**mnist, "batch": 5, "steps": 3}],
        "allreduce_sizes": [4096],
        "threads": 1,
    }
    facts = [{"rank": r, "local_rank": r, "node": 0} for r in (0, 1)]

    def rank(times: list[float]) -> dict[str, Any]:
        timings = {
            ("train", "mnist_mlp", "single", "baseline", 1): {"warmup_s": [9.0], "step_s": times},
            ("train", "mnist_mlp", "ddp", "weak", 2): {"warmup_s": [9.0], "step_s": times},
            ("train", "mnist_mlp", "independent", "weak", 2): {"warmup_s": [9.0], "step_s": times},
            ("allreduce", "mnist_mlp", 2): {"warmup_s": [9.0], "step_s": times},
            ("sweep", 4096, 2): {"warmup_s": [9.0], "step_s": times},
        }
        checks = {
            "mnist_mlp": {
                "differences": {"ddp/2": [1e-8, 0.0]},
                "buckets": {"2": [MNIST_GRADIENT_BYTES]},
                "gradient_bytes": MNIST_GRADIENT_BYTES,
            }
        }
        cpu = {"counts": (1, 2), "dp_counts": (), "checks": checks, "timings": timings}
        return {"groups": [cpu, {"counts": (), "dp_counts": (), "checks": {}, "timings": {}}]}

    cpu, gpu = results.per_device(config, facts, [rank([1.0, 3.0]), rank([2.0, 1.0])])
    assert check_shape([cpu, gpu], DATA_SPEC["per_device"], "per_device") is None
    runs = _runs(cpu["workloads"][0])
    assert runs["ddp", "strong", 2]["unsupported"] == {"code": "batch_not_divisible"}
    weak = runs["ddp", "weak", 2]
    assert weak["step_s"] == [2.0, 3.0] and weak["rank_step_s"] == [[1.0, 3.0], [2.0, 1.0]]
    assert (weak["max_parameter_difference"], weak["replica_difference"]) == (1e-8, 0.0)
    assert weak["allreduce"]["step_s"] == [2.0, 3.0] and weak["global_batch"] == 10
    assert runs["single", "baseline", 1]["step_s"] == [1.0, 3.0]  # rank 0 alone
    assert cpu["allreduce_sweep"][0]["sizes"] == [
        {"bytes": 4096, "warmup_s": [9.0], "time_s": [2.0, 3.0]}
    ]
    assert gpu["unsupported"] == {"code": "no_device_at_rank_0"} and gpu["workloads"] == []


def test_ddp_buckets_of_the_wide_mlp_as_the_hook_counts_them(tmp_path: Path) -> None:
    """In this process, a world of one: DDP's buckets do not depend on the number of
    processes, only on the parameters (reversed) and the bucket caps (1 MiB first, then 25)."""
    store = f"file://{tmp_path / 'store'}"
    dist.init_process_group("gloo", init_method=store, rank=0, world_size=1)
    try:
        spec = catalog.MODELS["wide_mlp"]
        where = torch.device("cpu")
        model = training.ddp(training.fresh_model(spec, 0, where), "cpu", where, None)
        world = dist.group.WORLD
        assert world is not None
        log = hooks.BucketLog(world)
        model.register_comm_hook(log, hooks.counting_allreduce)
        x, y = training.synthetic(spec, 4, seed=0)
        training.trainer(model, [(x, y)], 0.01)()
        assert log.sizes == [4 * spec.parameter_count]  # the first step: one bucket
        training.trainer(model, [(x, y)], 0.01)()
        assert log.sizes == WIDE_BUCKETS  # rebuilt in the order the gradients came
        assert sum(WIDE_BUCKETS) == training.gradient_bytes(model) == 4 * 6_316_042
    finally:
        dist.destroy_process_group()


def test_the_workers_samples_are_the_workloads_synthetic_samples() -> None:
    spec = catalog.MODELS["mnist_mlp"]
    x, y = training.synthetic(spec, 32, seed=3)
    split = data.synthetic(spec, 32, seed=3)
    assert torch.equal(x, split.x_train) and torch.equal(y, split.y_train)


# --------------------------------------------------------------------------
# The launcher's bounds, with stand-in launchers (plain Python, no torch)

RECORDED_ROOT_CAUSE = """torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
======================================================
run_script_path FAILED
------------------------------------------------------
Failures:
  <NO_OTHER_FAILURES>
------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-11-22_11:37:20
  host      : localhost
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 24813)  (SIGKILL)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 24813
======================================================""".splitlines()


def test_the_reason_names_the_killed_worker_not_the_ones_torchrun_stopped() -> None:
    assert launch.root_cause(RECORDED_ROOT_CAUSE) == ("1", "-9", "Signal 9 (SIGKILL)")
    stopped = {"rank": 0, "error": "SignalException: Process 24812 got signal: 15"}
    outcome = launch.Outcome(1, 5.0, 3.0, [stopped], RECORDED_ROOT_CAUSE)
    assert launch.why(outcome, 60) == "worker_died: rank 1, signal 9 (SIGKILL)"
    timed_out = {"rank": 1, "error": "DistBackendError: Timed out: 3000ms"}
    outcome = launch.Outcome(1, 5.0, 3.0, [stopped, timed_out], ["ChildFailedError"])
    assert launch.why(outcome, 60) == "worker_failed: rank 1: DistBackendError: Timed out: 3000ms"
    alone = ["    raise RendezvousTimeoutError", "torch...rendezvous.api.RendezvousTimeoutError"]
    assert launch.why(launch.Outcome(1, 5.3, None, [], alone), 60) == (
        "rendezvous_timeout: not every machine joined within the join timeout"
    )  # recorded: a coordinator whose second machine never came
    hung = launch.Outcome(None, 61.0, None)
    assert launch.why(hung, 60) == "launch_timeout: no result within 60 s"
    assert launch.why(launch.Outcome(0, 5.0, 3.0), 60) is None


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.slow
def test_a_launcher_that_hangs_is_killed_at_the_deadline() -> None:
    lines: list[str] = []
    code = "import time; print('data_parallel | started', flush=True); time.sleep(60)"
    started = time.perf_counter()
    with pytest.raises(launch.LaunchFailed, match="launch_timeout: no result within 1 s"):
        launch.run(_python(code), os.environ, timeout_s=1, grace_s=1, progress=lines.append)
    assert time.perf_counter() - started < 5 and lines == ["data_parallel | started"]


def test_a_reported_failure_ends_the_launch_after_the_grace_even_if_sigterm_is_ignored() -> None:
    code = (
        "import json, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('data_parallel:error ' + json.dumps({'rank': 3, 'error': 'RuntimeError: x'}),"
        " flush=True); time.sleep(60)"
    )
    started = time.perf_counter()
    with pytest.raises(launch.LaunchFailed, match="worker_failed: rank 3: RuntimeError: x"):
        launch.run(_python(code), os.environ, timeout_s=60, grace_s=0.5, progress=print)
    assert time.perf_counter() - started < 5


@pytest.mark.slow
def test_workers_orphaned_by_their_launcher_are_killed_too() -> None:
    code = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print('data_parallel | child', child.pid, flush=True); time.sleep(0.5); sys.exit(3)"
    )
    lines: list[str] = []
    with pytest.raises(launch.LaunchFailed, match="launcher_failed: torchrun exited with 3"):
        launch.run(_python(code), os.environ, timeout_s=30, grace_s=0.5, progress=lines.append)
    orphan = int(lines[0].split()[-1])
    assert not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == "zombie"


# --------------------------------------------------------------------------
# The shared smoke run: a real launch, the CPU and the stand-in GPU


def _runs(workload: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(r["method"], r["scaling"], r["processes"]): r for r in workload["runs"]}


def test_the_smoke_run_measures_one_and_two_processes(smoke_run: Path) -> None:
    document = rf.read_document(smoke_run / "data_parallel.json", "experiment")
    config = DECLARATION.profiles["smoke"]
    result = document["data"]
    assert (result["launch"]["world_size"], result["launch"]["nnodes"]) == (2, 1)
    (node,) = result["nodes"]
    assert (node["ranks"], node["coordinator"]) == ([0, 1], True)
    assert node["environment"]["cpu"]["physical_cores"] >= 1
    cpu, _ = result["per_device"]
    assert (cpu["device"], cpu["backend"], cpu["process_counts"]) == ("cpu", "gloo", [1, 2])
    (mnist,) = cpu["workloads"]
    assert mnist["parameters"] == 101_770
    assert mnist["gradient_bytes"] == sum(mnist["buckets"]) == MNIST_GRADIENT_BYTES
    assert mnist["buckets"] == [MNIST_GRADIENT_BYTES]  # under DDP's first-bucket cap: one
    runs = _runs(mnist)
    assert set(runs) == {
        ("single", "baseline", 1),
        ("ddp", "strong", 2),
        ("ddp", "weak", 2),
        ("independent", "weak", 2),
    }
    for run in runs.values():
        assert len(run["step_s"]) == config.repeats and min(run["step_s"]) > 0
        assert len(run["warmup_s"]) == config.warmup
    strong = runs["ddp", "strong", 2]
    assert (strong["per_process_batch"], strong["global_batch"]) == (8, 16)
    assert [len(times) for times in strong["rank_step_s"]] == [config.repeats] * 2
    assert strong["step_s"] == [max(a, b) for a, b in zip(*strong["rank_step_s"], strict=True)]
    assert 0 <= strong["max_parameter_difference"] <= config.tolerance
    assert strong["replica_difference"] == 0.0  # DDP keeps the replicas bit for bit equal
    assert runs["ddp", "weak", 2]["global_batch"] == 32
    alone = runs["independent", "weak", 2]  # both processes at once, no communication
    assert (alone["allreduce"], len(alone["rank_step_s"])) == (None, 2)
    assert strong["allreduce"]["summary"]["median"] > 0
    (sweep,) = cpu["allreduce_sweep"]
    assert [p["bytes"] for p in sweep["sizes"]] == list(config.allreduce_sizes)


def test_the_smoke_runs_worker_launches_torchrun_again(smoke_run: Path) -> None:
    """The smoke profile's one worker (experiments.core.replicas) relaunches the experiment
    in fresh ranks: one value per repeat of its replica for every timing (the stand-in GPU
    lives in the test's own process only, so the worker times the CPU's)."""
    document = rf.read_document(smoke_run / "data_parallel.json", "experiment")
    (worker,) = document["processes"]
    assert (worker["round"], "error" in worker) == (1, False)
    cpu_keys = {m.key for m in DECLARATION.metrics(document["data"]) if m.device == "cpu"}
    assert set(worker["values"]) == cpu_keys and len(cpu_keys) == 4
    replica = replica_config("data_parallel", DECLARATION.profiles["smoke"])
    assert replica is not None and replica.repeats == 2
    assert all(len(v) == replica.repeats and min(v) > 0 for v in worker["values"].values())


def test_the_stand_in_walks_the_gpu_branches_labelled_simulated(smoke_run: Path) -> None:
    result = rf.read_document(smoke_run / "data_parallel.json")["data"]
    standin = result["per_device"][1]
    assert (standin["device_name"], standin["simulated"]) == (STAND_IN, True)
    assert (standin["intended_backend"], standin["backend"]) == ("nccl", "gloo")
    assert standin["placement"] == ["cuda:0", "cuda:1"]
    runs = _runs(standin["workloads"][0])
    assert {("data_parallel", "strong", 2), ("data_parallel", "weak", 2)} <= set(runs)
    data_parallel = runs["data_parallel", "strong", 2]
    assert data_parallel["step_s"] and data_parallel["rank_step_s"] == [data_parallel["step_s"]]
    # without a GPU, DataParallel calls the module itself: the one-process computation exactly
    assert data_parallel["max_parameter_difference"] == 0.0


def test_the_section_renders_with_the_stand_in_labelled(smoke_report: Path) -> None:
    html = (smoke_report / "report.html").read_text(encoding="utf-8")
    start = html.index('<section id="data_parallel">')
    section = html[start : html.index("</section>", start)]
    assert heading_of(html, "data_parallel") == title("data_parallel")
    (view,) = [
        s for s in page.context(load_run(smoke_report))["sections"] if s.name == "data_parallel"
    ]
    cpu, standin = view.context["devices"]
    assert (cpu["simulated"], standin["simulated"]) == (False, True)
    assert STAND_IN in text_of(html, "data_parallel")
    # the stand-in's own figures are CPU timings and are not shown: the CPU's plots only
    plotted = sum(1 for w in cpu["workloads"] if w["plot"]) + (1 if cpu["sweep"] else 0)
    assert plotted >= 2 and section.count('<img src="data:image/svg+xml;base64,') == plotted
    assert any(w["crossover"] for w in cpu["workloads"])


# --------------------------------------------------------------------------
# Launches: two nodes on the loopback address; a worker killed mid-run

TINY = Config(
    workloads=("mnist_mlp",),
    batches=(8,),
    steps=(2,),
    repeats=1,
    check_steps=2,
    allreduce_sizes=(4096, 65536),
    allreduce_rounds=1,
    join_timeout_s=30,
    collective_timeout_s=20,
    launch_timeout_s=90,
    shutdown_timeout_s=2,
)


@pytest.mark.slow
def test_two_torchrun_nodes_on_the_loopback_address() -> None:
    endpoint = f"127.0.0.1:{launch.free_port()}"
    joiner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "experiments.suite.data_parallel.launch",
            "--nnodes",
            "2",
            "--rdzv-endpoint",
            endpoint,
            "--nproc-per-node",
            "1",
            "--join-timeout-s",
            "30",
            "--collective-timeout-s",
            "20",
            "--launch-timeout-s",
            "90",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        encoding="utf-8",
    )
    try:
        config = dataclasses.replace(TINY, nnodes=2, rdzv_endpoint=endpoint, nproc_per_node=1)
        result = measure.run(config, [CpuDevice()], _ctx())
        _, err = joiner.communicate(timeout=30)
    finally:
        launch.Tree(joiner.pid).kill()
    assert joiner.returncode == 0, err
    assert "--nnodes 2" in err and f"--rdzv-endpoint {endpoint}" in err
    assert (result["launch"]["nnodes"], result["launch"]["world_size"]) == (2, 2)
    nodes = result["nodes"]
    assert sorted(r for n in nodes for r in n["ranks"]) == [0, 1] and len(nodes) == 2
    assert [n["coordinator"] for n in nodes].count(True) == 1
    assert all(n["environment"]["cpu"]["physical_cores"] for n in nodes)  # both machines' facts
    (mnist,) = result["per_device"][0]["workloads"]
    assert mnist["buckets"] == [MNIST_GRADIENT_BYTES]
    strong = _runs(mnist)["ddp", "strong", 2]
    assert strong["nodes"] == 2  # the two processes ran on two "machines"
    assert strong["max_parameter_difference"] <= config.tolerance


class KillAWorker(Progress):
    """Progress that SIGKILLs one of torchrun's workers at the first line from the workers,
    and remembers every process it saw below this one."""

    def __init__(self) -> None:
        super().__init__(stream=io.StringIO())
        self.killed: int | None = None
        self.seen: list[psutil.Process] = []

    def update(self, text: str) -> None:
        super().update(text)
        if self.killed is None and text.startswith("data_parallel | cpu"):
            self.seen = psutil.Process().children(recursive=True)
            agent = next(p for p in self.seen if "torch.distributed.run" in " ".join(p.cmdline()))
            self.killed = agent.children()[-1].pid
            os.kill(self.killed, signal.SIGKILL)


@pytest.mark.slow
def test_a_killed_worker_fails_the_experiment_quickly_and_keeps_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toy = types.ModuleType("toy_before_data_parallel")
    toy.__dict__["run"] = lambda config, devices, ctx: {"value": 1}
    monkeypatch.setitem(sys.modules, toy.__name__, toy)
    declared = {
        "toy": Declaration(
            name="toy",
            order=0,
            title="toy",
            config=ToyConfig,
            profiles={p: ToyConfig() for p in declaration.PROFILE_NAMES},
            data_spec={"value": int},
            metrics=lambda data: [],
            measure=toy.__name__,
        ),
        "data_parallel": DECLARATION,
    }
    monkeypatch.setattr(declaration, "declarations", lambda: declared)
    run_dir, manifest, environment, configs = runner.start_run(tmp_path, profile="smoke")
    configs["data_parallel"] = dataclasses.replace(TINY, steps=(100_000,))
    progress = KillAWorker()
    started = time.perf_counter()
    runner.execute(run_dir, manifest, environment, configs, [CpuDevice()], progress)
    elapsed = time.perf_counter() - started
    failed = rf.read_document(run_dir / "data_parallel.json", "experiment")
    assert progress.killed is not None
    assert failed["status"] == "failed"
    assert failed["reason"] == "LaunchFailed: worker_died: rank 1, signal 9 (SIGKILL)"
    assert rf.read_document(run_dir / "toy.json")["status"] == "ok"
    assert rf.read_document(run_dir / "run.json")["status"] == "complete"
    assert elapsed < 40  # measured: about 6 s, most of it starting torchrun
    assert not [p for p in progress.seen if p.is_running() and p.status() != "zombie"]


def test_the_windows_torchrun_gives_the_rendezvous_store_use_libuv_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """torch 2.13's rendezvous backends create their TCPStore without `use_libuv`, which
    PyPI's Windows builds refuse (pytorch/pytorch#178600); the shim's store takes it from
    USE_LIBUV. Checked here on Linux, whose torch has both backends, through the names
    the rendezvous modules call."""
    import torch.distributed as dist
    from torch.distributed.elastic.rendezvous import c10d_rendezvous_backend, static_tcp_rendezvous

    from experiments.suite.data_parallel import torchrun_windows

    worker_rendezvous = importlib.import_module("torch.distributed.rendezvous")
    assert not torchrun_windows.use_libuv_wanted({})
    assert not torchrun_windows.use_libuv_wanted({"USE_LIBUV": "0"})
    assert torchrun_windows.use_libuv_wanted({"USE_LIBUV": "1"})
    modules = (dist, c10d_rendezvous_backend, static_tcp_rendezvous, worker_rendezvous)
    for module in modules:
        monkeypatch.setitem(module.__dict__, "TCPStore", module.__dict__["TCPStore"])  # restored
    monkeypatch.setenv("USE_LIBUV", "0")
    torchrun_windows.honour_use_libuv()
    shim: Any = dist.__dict__["TCPStore"]
    assert all(module.__dict__["TCPStore"] is shim for module in modules)
    store = c10d_rendezvous_backend.__dict__["TCPStore"]("127.0.0.1", 0, is_master=True)
    assert isinstance(store, dist.__dict__["Store"]) and not store.libuvBackend
    assert shim("127.0.0.1", 0, is_master=True, use_libuv=True).libuvBackend  # explicit wins
