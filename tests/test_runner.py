"""The run folder: what is written, never overwritten, bad input refused, interruptions kept."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import resultformat, runner
from experiments.devices import CpuDevice
from experiments.harness import Progress


def test_a_run_writes_valid_files_and_a_manifest(quick_run: Path) -> None:
    assert sorted(p.name for p in quick_run.iterdir() if p.suffix == ".json") == [
        "batch_size_scaling.json",
        "cpu_vs_gpu.json",
        "environment.json",
        "logging_interval.json",
        "memory_breakdown.json",
        "mixed_precision.json",
        "run.json",
        "step_overhead.json",
    ]
    manifest = resultformat.read_document(quick_run / "run.json", "run")
    assert manifest["status"] == "complete"
    assert manifest["label"] == "test-machine"
    assert manifest["experiments"]["cpu_vs_gpu"] == {
        "status": "ok",
        "reason": None,
        "file": "cpu_vs_gpu.json",
    }
    assert manifest["overrides"]["cpu_vs_gpu.epochs"] == "200"
    document = resultformat.read_document(quick_run / "cpu_vs_gpu.json", "experiment")
    assert document["config"]["epochs"] == 200
    assert document["config"]["crossover_sizes"] == [16, 32]
    iris = document["data"]["iris"]["per_device"][0]
    assert len(iris["times_s"]) == 3 and len(iris["warmup_s"]) == 1
    assert len(iris["curve"]) == 200 // 10
    text = (quick_run / "cpu_vs_gpu.json").read_text()
    assert text == resultformat.dumps(document)  # canonical form on disk


def test_the_cli_run_reproduces_an_in_process_run_bit_for_bit(quick_run: Path) -> None:
    """Same seed, same thread count, another process: the same loss curve, to the last bit."""
    from experiments import cpu_vs_gpu
    from experiments.harness import RunContext

    stored = resultformat.read_document(quick_run / "cpu_vs_gpu.json")
    manifest = resultformat.read_document(quick_run / "run.json")
    # the same reconstruction --resume uses: profile + overrides give the stored config
    configs = runner.build_configs(
        list(manifest["experiments"]), "quick", manifest["overrides"], None
    )
    config = configs["cpu_vs_gpu"]
    assert isinstance(config, cpu_vs_gpu.Config)
    assert json.loads(json.dumps(dataclasses.asdict(config))) == stored["config"]
    ctx = RunContext(progress=Progress(enabled=False), physical_cores=1)
    again = cpu_vs_gpu.run(config, [CpuDevice()], ctx)["iris"]["per_device"][0]
    assert again["curve_sha256"] == stored["data"]["iris"]["per_device"][0]["curve_sha256"]


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
    assert runner.main(["--quiet", "--results", str(results), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not results.exists()


def test_label_defaults_to_a_hardware_slug() -> None:
    assert runner.slug("12th Gen Intel(R) Core(TM) i9-12900KF") == "12th-gen-intel-core-i9-12900kf"
    assert runner.slug("NVIDIA GeForce RTX 3080 Ti") == "nvidia-geforce-rtx-3080-ti"
    assert runner.slug("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz") == "intel-xeon-e5-2680-v4"


def _fake_experiments(monkeypatch: pytest.MonkeyPatch, interrupt_in: str | None) -> list[str]:
    """Two tiny registered experiments; the named one raises KeyboardInterrupt once."""
    calls: list[str] = []
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Config:
        seed: int = 0

    def module(name: str) -> types.ModuleType:
        mod = types.ModuleType(name)

        def run(config: Any, devices: Any, ctx: Any) -> dict[str, Any]:
            calls.append(name)
            if name == interrupt_in and calls.count(name) == 1:
                raise KeyboardInterrupt
            return {"value": 1}

        mod.__dict__.update(
            TITLE=name, Config=Config, run=run, PROFILES={"quick": Config(), "default": Config()}
        )
        return mod

    modules = {"first": module("first"), "second": module("second")}
    monkeypatch.setattr(experiments, "EXPERIMENTS", {"first": "x", "second": "y"})
    monkeypatch.setattr(experiments, "load", lambda name: modules[name])
    monkeypatch.setitem(resultformat.DATA_SPECS, "first", {"value": int})
    monkeypatch.setitem(resultformat.DATA_SPECS, "second", {"value": int})
    return calls


def test_interrupted_run_keeps_finished_work_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_experiments(monkeypatch, interrupt_in="second")
    run_dir, manifest, environment, configs = runner.start_run(tmp_path, profile="quick")
    with pytest.raises(KeyboardInterrupt):
        runner.execute(
            run_dir, manifest, environment, configs, [CpuDevice()], Progress(enabled=False)
        )
    stored = resultformat.read_document(run_dir / "run.json", "run")
    assert stored["status"] == "incomplete"
    assert stored["experiments"]["first"]["status"] == "ok"
    assert stored["experiments"]["second"]["status"] == "pending"
    first_bytes = (run_dir / "first.json").read_bytes()
    assert not (run_dir / "second.json").exists()

    assert runner.main(["--quiet", "--resume", str(run_dir)]) == 0
    assert calls == ["first", "second", "second"]  # only the missing one ran again
    stored = resultformat.read_document(run_dir / "run.json", "run")
    assert stored["status"] == "complete"
    assert stored["experiments"]["second"]["status"] == "ok"
    assert (run_dir / "first.json").read_bytes() == first_bytes
    assert runner.main(["--quiet", "--resume", str(run_dir)]) == 2  # nothing left to resume
    assert runner.main(["--quiet", "--resume", str(run_dir), "--profile", "quick"]) == 2


def test_a_failing_experiment_is_recorded_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_experiments(monkeypatch, interrupt_in=None)

    def broken(config: Any, devices: Any, ctx: Any) -> dict[str, Any]:
        raise RuntimeError("Expected all tensors to be on the same device")

    experiments.load("first").__dict__["run"] = broken
    run_dir, manifest, environment, configs = runner.start_run(tmp_path, profile="quick")
    runner.execute(run_dir, manifest, environment, configs, [CpuDevice()], Progress(enabled=False))
    failed = resultformat.read_document(run_dir / "first.json", "experiment")
    assert failed["status"] == "failed"
    assert failed["reason"] == "RuntimeError: Expected all tensors to be on the same device"
    assert resultformat.read_document(run_dir / "run.json")["status"] == "complete"


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
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stderr is not None
    for line in process.stderr:  # wait until the timed loop is running
        if "repeat" in line or "warm-up" in line:
            break
    time.sleep(0.5)
    os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "--resume" in err
    (run_dir,) = (tmp_path / "t").iterdir()
    manifest = resultformat.read_document(run_dir / "run.json", "run")
    assert manifest["status"] == "incomplete"
    assert manifest["experiments"]["cpu_vs_gpu"]["status"] == "pending"


def test_a_skipped_experiment_records_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from experiments.harness import Skipped

    _fake_experiments(monkeypatch, interrupt_in=None)

    def skip(config: Any, devices: Any, ctx: Any) -> dict[str, Any]:
        raise Skipped("no CUDA device")

    experiments.load("second").__dict__["run"] = skip
    run_dir, manifest, environment, configs = runner.start_run(tmp_path, profile="quick")
    runner.execute(run_dir, manifest, environment, configs, [CpuDevice()], Progress(enabled=False))
    skipped = resultformat.read_document(run_dir / "second.json", "experiment")
    assert (skipped["status"], skipped["reason"], skipped["data"]) == (
        "skipped",
        "no CUDA device",
        None,
    )
    stored = resultformat.read_document(run_dir / "run.json", "run")
    assert stored["experiments"]["second"]["status"] == "skipped"
    assert stored["experiments"]["first"]["status"] == "ok"
