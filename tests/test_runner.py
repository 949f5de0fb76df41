"""The run folder: what is written, never overwritten, bad input refused, interruptions kept."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from experiments.contract import declaration
from experiments.contract import format as rf
from experiments.contract.declaration import Declaration
from experiments.core import cli, measuring, runner
from experiments.core.devices import CpuDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import cpu_vs_gpu
from experiments.suite.cpu_vs_gpu import measure as cpu_vs_gpu_measure
from tests.datasets import small_mnist
from tests.standin import STAND_IN


def test_a_run_writes_valid_files_and_a_manifest(smoke_run: Path) -> None:
    written = sorted(p.name for p in smoke_run.iterdir() if p.suffix == ".json")
    assert written == sorted(
        ["run.json", "environment.json", *(f"{name}.json" for name in declaration.names())]
    )
    manifest = rf.read_document(smoke_run / "run.json", "run")
    assert manifest["status"] == "complete"
    assert manifest["label"] == "test-machine"
    assert manifest["profile"] == "smoke"
    assert manifest["experiments"]["cpu_vs_gpu"] == {
        "status": "ok",
        "reason": None,
        "file": "cpu_vs_gpu.json",
    }
    document = rf.read_document(smoke_run / "cpu_vs_gpu.json", "experiment")
    assert document["schema_version"] == rf.SCHEMA_VERSION == 4
    reference = document["conditions"]["reference"]
    assert reference["workload"] == "iris_mlp_steps" and reference["steps"] == 40
    assert reference["others"] == {
        "tiny_ops": {"count": 1000, "threads": 1},
        "two_threads": {"count": 20, "threads": min(2, os.cpu_count() or 1)},
    }
    assert len(reference["checkpoints"]) >= 2  # the experiment's start and end at least
    assert reference["every_s"] == 2.5
    for checkpoint in reference["checkpoints"]:
        # every workload read 3 times, in turns: the same moments
        others = checkpoint["others"]
        assert len(checkpoint["times_s"]) == len(others["tiny_ops"]) == 3
        assert len(others["two_threads"]) == 3
    assert document["config"]["epochs"] == 200
    assert document["config"]["crossover_sizes"] == [16, 32]
    assert document["devices"] == ["cpu", "sim:0"]
    iris = document["data"]["iris"]["per_device"]
    assert [e["device_name"] for e in iris][1] == STAND_IN
    assert len(iris[0]["times_s"]) == 3 and len(iris[0]["warmup_s"]) == 1
    assert len(iris[0]["curve"]) == 200 // 10
    text = (smoke_run / "cpu_vs_gpu.json").read_text(encoding="utf-8")
    assert text == rf.dumps(document)  # canonical form on disk


def test_each_experiment_records_the_threads_it_measured_with(smoke_run: Path) -> None:
    """`conditions.measured` is the state the timings ended under: each experiment's own
    thread count (0 meaning the physical cores; cpu_vs_gpu's last part is the crossover), not
    the one the previous experiment left; the state at start is the same for all, as each
    one's change is undone after it. data_parallel's workers are other processes."""
    cores = rf.read_document(smoke_run / "environment.json")["cpu"]["physical_cores"] or 1
    manifest = rf.read_document(smoke_run / "run.json")
    documents = {n: rf.read_document(smoke_run / f"{n}.json") for n in manifest["experiments"]}
    config = {name: document["config"] for name, document in documents.items()}
    expected = {
        "cpu_vs_gpu": config["cpu_vs_gpu"]["crossover_threads"] or cores,
        "logging_interval": config["logging_interval"]["threads"],
        "step_overhead": config["step_overhead"]["threads"],
        "batch_size_scaling": config["batch_size_scaling"]["threads"] or cores,
        "mixed_precision": config["mixed_precision"]["threads"] or cores,
    }
    measured = {n: documents[n]["conditions"]["measured"]["torch_threads"] for n in expected}
    assert measured == expected
    assert len({d["conditions"]["torch_threads"] for d in documents.values()}) == 1


def test_the_cli_run_reproduces_an_in_process_run_bit_for_bit(smoke_run: Path) -> None:
    """Same seed, same thread count, another process: the same loss curve, to the last bit."""
    stored = rf.read_document(smoke_run / "cpu_vs_gpu.json")
    manifest = rf.read_document(smoke_run / "run.json")
    # the same reconstruction --resume uses: profile + overrides give the stored config
    configs = runner.build_configs(
        list(manifest["experiments"]), manifest["profile"], manifest["overrides"], None
    )
    config = configs["cpu_vs_gpu"]
    assert isinstance(config, cpu_vs_gpu.Config)
    assert json.loads(json.dumps(dataclasses.asdict(config))) == stored["config"]
    ctx = RunContext(progress=Progress(enabled=False), physical_cores=1)
    again = cpu_vs_gpu_measure.run(config, [CpuDevice()], ctx)["iris"]["per_device"][0]
    assert again["curve_sha256"] == stored["data"]["iris"]["per_device"][0]["curve_sha256"]


@pytest.mark.parametrize(
    ("value", "factor"), [(None, 1.0), ("", 1.0), ("2", 2.0), ("1.25", 1.25), ("10", 10.0)]
)
def test_the_planted_slowdown_is_read_from_the_environment(
    value: str | None, factor: float
) -> None:
    environ = {} if value is None else {runner.PLANTED_SLOWDOWN_ENV: value}
    assert runner.planted_slowdown(environ) == factor


@pytest.mark.parametrize("value", ["0.5", "11", "nan", "inf", "two"])
def test_a_bad_planted_slowdown_stops_before_anything_is_written(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(runner.PLANTED_SLOWDOWN_ENV, value)
    results = tmp_path / "results"
    assert cli.main(["--quiet", "--results", str(results), "--only", "memory_breakdown"]) == 2
    err = capsys.readouterr().err
    assert f"got {value!r}" in err and err.count("\n") == 1
    assert not results.exists()


def test_an_experiment_leaves_threads_and_random_generators_as_it_found_them() -> None:
    """Each experiment sets its own threads and seeds; the next starts from what it found."""
    import random

    import numpy as np
    import torch

    torch.set_num_threads(2)
    before = (random.getstate(), pickle.dumps(np.random.get_state()), torch.get_rng_state())
    with measuring.own_state() as measured:
        torch.set_num_threads(1)
        torch.manual_seed(123)
        random.seed(5)
        np.random.seed(6)
        torch.rand(3)
    assert measured["torch_threads"] == 1  # what the timings ran under
    assert torch.get_num_threads() == 2
    after = (random.getstate(), pickle.dumps(np.random.get_state()), torch.get_rng_state())
    assert after[:2] == before[:2]
    assert torch.equal(after[2], before[2])


def test_runs_never_overwrite_each_other(tmp_path: Path) -> None:
    first, _ = runner._new_run_dir(tmp_path, "m")
    second, _ = runner._new_run_dir(tmp_path, "m")
    assert first != second and first.is_dir() and second.is_dir()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "cpu_vs_gpu.epochs=abc"], "--set cpu_vs_gpu.epochs: cannot read 'abc' as int"),
        (["--set", "cpu_vs_gpu.epoch=5"], "cpu_vs_gpu has no setting 'epoch'"),
        (["--set", "epochs=5"], "expected EXPERIMENT.SETTING=VALUE"),
        (["--set", "cpu_vs_gpu.curve_every=7"], "curve_every (7) must divide epochs"),
        (["--only", "nope"], "unknown experiment(s) nope"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    results = tmp_path / "results"
    assert cli.main(["--quiet", "--results", str(results), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not results.exists()


def test_label_defaults_to_a_hardware_slug() -> None:
    assert runner.slug("12th Gen Intel(R) Core(TM) i9-12900KF") == "12th-gen-intel-core-i9-12900kf"
    assert runner.slug("NVIDIA GeForce RTX 3080 Ti") == "nvidia-geforce-rtx-3080-ti"
    assert runner.slug("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz") == "intel-xeon-e5-2680-v4"


@dataclass(frozen=True)
class ToyConfig:
    seed: int = 0


def _fake_experiments(monkeypatch: pytest.MonkeyPatch, interrupt_in: str | None) -> list[str]:
    """Two tiny declared experiments; the named one raises KeyboardInterrupt once."""
    calls: list[str] = []
    fakes = {}
    for order, name in enumerate(("first", "second")):
        measure = types.ModuleType(f"toy_{name}_measure")

        def run(config: Any, devices: Any, ctx: Any, name: str = name) -> dict[str, Any]:
            calls.append(name)
            if name == interrupt_in and calls.count(name) == 1:
                raise KeyboardInterrupt
            return {"value": 1}

        measure.__dict__["run"] = run
        monkeypatch.setitem(sys.modules, measure.__name__, measure)
        fakes[name] = Declaration(
            name=name,
            order=order,
            title=name,
            config=ToyConfig,
            profiles={p: ToyConfig() for p in declaration.PROFILE_NAMES},
            data_spec={"value": int},
            metrics=lambda data: [],
            measure=measure.__name__,
        )
    monkeypatch.setattr(declaration, "declarations", lambda: fakes)
    return calls


def _use(monkeypatch: pytest.MonkeyPatch, name: str, run: Any) -> None:
    """Replace one fake experiment's measuring function."""
    module = sys.modules[f"toy_{name}_measure"]
    monkeypatch.setitem(module.__dict__, "run", run)


@pytest.mark.slow
def test_interrupted_run_keeps_finished_work_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_experiments(monkeypatch, interrupt_in="second")
    run_dir, manifest, environment, configs = runner.start_run(tmp_path, profile="quick")
    with pytest.raises(KeyboardInterrupt):
        runner.execute(
            run_dir, manifest, environment, configs, [CpuDevice()], Progress(enabled=False)
        )
    stored = rf.read_document(run_dir / "run.json", "run")
    assert stored["status"] == "incomplete"
    assert stored["experiments"]["first"]["status"] == "ok"
    assert stored["experiments"]["second"]["status"] == "pending"
    first_bytes = (run_dir / "first.json").read_bytes()
    assert not (run_dir / "second.json").exists()

    assert cli.main(["--quiet", "--resume", str(run_dir)]) == 0
    assert calls == ["first", "second", "second"]  # only the missing one ran again
    stored = rf.read_document(run_dir / "run.json", "run")
    assert stored["status"] == "complete"
    assert stored["experiments"]["second"]["status"] == "ok"
    assert (run_dir / "first.json").read_bytes() == first_bytes
    assert cli.main(["--quiet", "--resume", str(run_dir)]) == 2  # nothing left to resume
    assert cli.main(["--quiet", "--resume", str(run_dir), "--profile", "quick"]) == 2


@pytest.mark.slow
def test_a_failing_experiment_is_recorded_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_experiments(monkeypatch, interrupt_in=None)

    def broken(config: Any, devices: Any, ctx: Any) -> dict[str, Any]:
        raise RuntimeError("Expected all tensors to be on the same device")

    _use(monkeypatch, "first", broken)
    run_dir, manifest, environment, configs = runner.start_run(tmp_path, profile="quick")
    runner.execute(run_dir, manifest, environment, configs, [CpuDevice()], Progress(enabled=False))
    failed = rf.read_document(run_dir / "first.json", "experiment")
    assert failed["status"] == "failed"
    assert failed["reason"] == "RuntimeError: Expected all tensors to be on the same device"
    assert rf.read_document(run_dir / "run.json")["status"] == "complete"


@pytest.mark.slow
def test_sigterm_marks_the_run_incomplete(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "experiments",
        "--results",
        str(tmp_path),
        "--label",
        "t",
        "--profile",
        "quick",
        "--set",
        "cpu_vs_gpu.epochs=1000000",
        "--set",
        "cpu_vs_gpu.curve_every=1000",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stderr is not None
    for line in process.stderr:  # wait until the timed loop is running
        if "repeat" in line or "warm-up" in line:
            break
    time.sleep(0.5)
    os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM  # 143: what a shell reports for TERM
    assert "--resume" in err
    (run_dir,) = (tmp_path / "t").iterdir()
    manifest = rf.read_document(run_dir / "run.json", "run")
    assert manifest["status"] == "incomplete"
    assert manifest["experiments"]["cpu_vs_gpu"]["status"] == "pending"


@pytest.mark.slow
def test_a_skipped_experiment_records_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments.core.harness import Skipped

    _fake_experiments(monkeypatch, interrupt_in=None)

    def skip(config: Any, devices: Any, ctx: Any) -> dict[str, Any]:
        raise Skipped("no_cuda_device")

    _use(monkeypatch, "second", skip)
    run_dir, manifest, environment, configs = runner.start_run(tmp_path, profile="quick")
    runner.execute(run_dir, manifest, environment, configs, [CpuDevice()], Progress(enabled=False))
    skipped = rf.read_document(run_dir / "second.json", "experiment")
    assert (skipped["status"], skipped["reason"], skipped["data"]) == (
        "skipped",
        "no_cuda_device",
        None,
    )
    stored = rf.read_document(run_dir / "run.json", "run")
    assert stored["experiments"]["second"]["status"] == "skipped"
    assert stored["experiments"]["first"]["status"] == "ok"


@pytest.mark.slow
def test_paths_are_stored_without_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments.suite.batch_size_scaling import Config as BatchConfig

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("STUDY_INVOKED_AS", f"nox -s run -- --results {tmp_path}/r")
    _fake_experiments(monkeypatch, interrupt_in=None)
    results = tmp_path / "results"
    command = ["python", "-m", "experiments", "--results", str(results)]
    _, manifest, _, _ = runner.start_run(results, profile="quick", command=command)
    assert manifest["command"][-1] == "~/results"
    assert manifest["invoked_as"] == "nox -s run -- --results ~/r"
    record = measuring.config_record(
        BatchConfig(data_dir=small_mnist(tmp_path / "data"), samples_per_epoch=64, max_batch=64)
    )
    assert record["data_dir"] == "~/data"
    assert rf.shareable_path("/elsewhere/x") == "/elsewhere/x"
    assert rf.shareable_path(f"{tmp_path}x/y") == f"{tmp_path}x/y"  # a sibling, not home
