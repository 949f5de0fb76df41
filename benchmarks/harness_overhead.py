"""Does the harness stay out of what it measures? The notes' bare loop against the harness.

Round by round, interleaved: the notes' Iris loop exactly as written there
(time.time() around 20 000 epochs, a print every 1000 epochs, here into a
null stream), then the cpu_vs_gpu experiment's own timed repeat of the same
loop. Prints every reading, the medians and their ratio. Run it with
`nox -s bench` (arguments after `--`, see --help).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time

import torch
from torch import nn

from experiments.core.devices import CpuDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite import cpu_vs_gpu
from experiments.suite.cpu_vs_gpu import measure
from experiments.workloads import data as workload_data


def notes_loop(epochs: int) -> float:
    """Seeds 000/001, flattened back into lines: data, model, loop, time.time()."""
    data = workload_data.iris()
    x_train, y_train = data.x_train, data.y_train
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 3))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = []
    start_time = time.time()
    for epoch in range(epochs):
        outputs = model(x_train)
        loss = criterion(outputs, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if (epoch + 1) % 1000 == 0:
            print(f"Epoch [{epoch + 1}/{epochs}], Loss: {loss.item():.4f}")
    return time.time() - start_time


def harness_repeat(epochs: int, threads: int) -> float:
    config = cpu_vs_gpu.Config(epochs=epochs, repeats=1, warmup=1, threads=threads)
    ctx = RunContext(progress=Progress(stream=io.StringIO()), physical_cores=threads)
    iris = measure._iris(config, [CpuDevice()], ctx)
    return float(iris["per_device"][0]["times_s"][0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--epochs", type=int, default=20_000, help="epochs per loop (default 20000)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"cpu: {os.cpu_count()} logical; torch {torch.__version__}; threads {args.threads}; "
        f"{args.epochs} epochs; {args.rounds} rounds"
    )
    with contextlib.redirect_stdout(io.StringIO()):
        notes_loop(1000)  # warm-up: lazy imports on the first optimizer step
    bare, harness = [], []
    for round_index in range(1, args.rounds + 1):
        with contextlib.redirect_stdout(io.StringIO()):
            bare.append(notes_loop(args.epochs))
        harness.append(harness_repeat(args.epochs, args.threads))
        torch.set_num_threads(args.threads)
        print(f"round {round_index}: notes' loop {bare[-1]:.3f} s, harness {harness[-1]:.3f} s")
    bare_median, harness_median = statistics.median(bare), statistics.median(harness)
    print(
        f"median: notes' loop {bare_median:.3f} s, harness {harness_median:.3f} s, "
        f"ratio harness/notes {harness_median / bare_median:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
