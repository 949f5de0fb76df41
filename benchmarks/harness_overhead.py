"""Does the product time the notes' loop as the notes' own script runs it?

Round by round, interleaved, each in a process of its own:

- the notes' Iris script exactly as note 000 writes it (benchmarks/notes_iris.py),
  its own `time.time()` around its 20 000 epochs, read from what it prints;
- the cpu_vs_gpu experiment's Iris measurement (the product's code: warm-up, then one
  timed repeat of the same loop), read from what it returns.

One torch thread for both (OMP_NUM_THREADS=1, and the experiment's own setting). The
notes' single run pays the one-off costs a warm-up absorbs (torch._dynamo is imported by
the first optimizer.step, about 0.5 s); so the main comparison runs the script with
torch._dynamo imported first, and a second one compares both cold: the script as is
against the product's warm-up. Prints every reading, the per-round ratios, their median
and its bootstrap 95 % interval. `nox -s bench` runs it (arguments after `--`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "notes_iris.py"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
DURATION = re.compile(r"总训练时长:([\d.]+) 秒")

PRODUCT = """
import io, json
from experiments.core.devices import CpuDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import cpu_vs_gpu
from experiments.suite.cpu_vs_gpu import measure
config = cpu_vs_gpu.Config(epochs={epochs}, repeats=1, warmup=1, threads=1)
ctx = RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)
entry = measure._iris(config, [CpuDevice()], ctx)["per_device"][0]
print(json.dumps({{"warmup_s": entry["warmup_s"][0], "repeat_s": entry["times_s"][0]}}))
"""

WARM_SCRIPT = "import torch, torch._dynamo, runpy; runpy.run_path({path!r}, run_name='__main__')"


def notes(preimport: bool) -> float:
    command = [sys.executable, "-c", WARM_SCRIPT.format(path=str(SCRIPT))]
    if not preimport:
        command = [sys.executable, str(SCRIPT)]
    out = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True, check=True)
    found = DURATION.search(out.stdout)
    if found is None:
        raise RuntimeError(f"the notes' script printed no duration:\n{out.stdout[-500:]}")
    return float(found.group(1))


def product(epochs: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PRODUCT.format(epochs=epochs)],
        env=ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    values: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return values


def interval(ratios: list[float], seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the median ratio over rounds."""
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(4000))
    return medians[100], medians[3899]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args()
    epochs = 20_000  # the notes' script's own count
    warm, cold = [], []
    for index in range(args.rounds):
        # alternate who goes first, so a drift of the machine falls on both alike
        if index % 2 == 0:
            script_warm, script_cold, ours = notes(True), notes(False), product(epochs)
        else:
            ours = product(epochs)
            script_cold, script_warm = notes(False), notes(True)
        warm.append(ours["repeat_s"] / script_warm)
        cold.append(ours["warmup_s"] / script_cold)
        print(
            f"round {index + 1}: notes' script {script_warm:.2f} s (torch._dynamo imported "
            f"first), {script_cold:.2f} s (as is); product repeat {ours['repeat_s']:.3f} s, "
            f"warm-up {ours['warmup_s']:.3f} s",
            flush=True,
        )
    for name, ratios in (
        ("product's timed repeat / notes' script (dynamo imported first)", warm),
        ("product's cold first run / notes' script as is", cold),
    ):
        low, high = interval(ratios)
        print(
            f"{name}: median {statistics.median(ratios):.3f} "
            f"(95 % interval {low:.3f}–{high:.3f}; rounds: "
            + ", ".join(f"{r:.3f}" for r in ratios)
            + ")"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
