"""Shared fixtures: one small real run, made once per test session (a few seconds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Small enough to keep the suite fast, large enough to exercise every code path.
FAST_OVERRIDES = {
    "cpu_vs_gpu.epochs": "200",
    "cpu_vs_gpu.repeats": "3",
    "cpu_vs_gpu.crossover_sizes": "16,32",
    "cpu_vs_gpu.crossover_steps": "3",
    "logging_interval.epochs": "200",
    "logging_interval.intervals": "1,10,100",
    "step_overhead.steps": "30",
    "step_overhead.repeats": "2",
    "step_overhead.profile_steps": "3",
    "step_overhead.peak_size": "64",
    "memory_breakdown.optimizers": "sgd,adam",
    "batch_size_scaling.max_batch": "64",
    "batch_size_scaling.samples_per_epoch": "256",
    "batch_size_scaling.repeats": "2",
    "batch_size_scaling.quality_batches": "4,256",
    "batch_size_scaling.quality_epochs": "1",
    "batch_size_scaling.confirm_cap": "256",
    "mixed_precision.workloads": "iris,digits",
    "mixed_precision.steps": "20,20",
    "mixed_precision.repeats": "2",
}
FAST = [arg for key, value in FAST_OVERRIDES.items() for arg in ("--set", f"{key}={value}")]


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete quick-profile run folder, produced by the real command line in its own process."""
    results = tmp_path_factory.mktemp("results")
    command = [
        sys.executable,
        "-m",
        "experiments",
        "--profile",
        "quick",
        "--quiet",
        "--results",
        str(results),
        "--label",
        "test-machine",
        *FAST,
    ]
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return Path((results / "LAST_RUN").read_text().strip())
