"""Shared fixtures: one small real run, made once per test session (a few seconds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Small enough to keep the suite fast, large enough to exercise every code path.
FAST = [
    "--set",
    "cpu_vs_gpu.epochs=200",
    "--set",
    "cpu_vs_gpu.repeats=3",
    "--set",
    "cpu_vs_gpu.crossover_sizes=16,32",
    "--set",
    "cpu_vs_gpu.crossover_steps=3",
]


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
