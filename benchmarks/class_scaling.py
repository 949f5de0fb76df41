"""How long the class view takes for a class of 50, 100 and 200 machines (HTML and Markdown,
no PDF), and whether its time grows faster than the number of run folders.

A class of 200 distinct machines is not at hand, so it is made from the class fixture's
real runs (tests/fixtures/class): each copy gets its own label and CPU name (a machine of
its own) and its timings scaled by its own factor (1 + 0.002 × its number), summaries
recomputed, so that no two are copies and the rankings and tests have real work to do.
The figures are about speed, not about any machine. Each size is timed 3 times as its
own process (`python -m report class …`), sizes interleaved; the medians are printed.

    python benchmarks/class_scaling.py [--sizes 50,100,200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from experiments.contract.format import (  # noqa: E402
    RAW_TIMINGS,
    read_document,
    write_document,
)
from experiments.contract.summary import summarize  # noqa: E402

CLASS = ROOT / "tests" / "fixtures" / "class"
TARGET_S = 30.0


def _scaled(value: Any, factor: float, key: str = "") -> Any:
    """Every list of seconds (keys ending in _s) times `factor`, summaries recomputed."""
    if isinstance(value, dict):
        scaled = {k: _scaled(v, factor, k) for k, v in value.items()}
        raw = next((k for k in RAW_TIMINGS if k in scaled), None)
        if raw is not None and isinstance(scaled.get("summary"), dict):
            scaled["summary"] = summarize(scaled[raw])
        return scaled
    if isinstance(value, list):
        if key.endswith("_s") and all(isinstance(v, int | float) for v in value):
            return [v * factor for v in value]
        return [_scaled(v, factor) for v in value]
    return value


def templates() -> list[Path]:
    """The fixture's complete runs of the quick profile."""
    found = []
    for manifest in sorted(CLASS.rglob("run.json")):
        run = read_document(manifest, "run")
        if run["status"] == "complete" and run["profile"] == "quick":
            found.append(manifest.parent)
    return found


def make_class(folder: Path, size: int, sources: list[Path]) -> None:
    for index in range(size):
        source = sources[index % len(sources)]
        label = f"machine-{index:03d}"
        target = folder / label / source.name
        target.mkdir(parents=True)
        factor = 1 + 0.002 * index
        for path in sorted(source.glob("*.json")):
            document = read_document(path)
            if document["kind"] == "run":
                document["label"] = label
            elif document["kind"] == "environment":
                document["cpu"]["model"] = f"{document['cpu']['model']} #{index}"
            else:
                document["data"] = _scaled(document["data"], factor)
            write_document(target / path.name, document)


def time_class(folder: Path, out: Path) -> float:
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "report", "class", str(folder), "--out", str(out), "--no-pdf"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,100,200", help="class sizes (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="timings per size (default: 3)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    sources = templates()
    with tempfile.TemporaryDirectory(prefix="class-bench-") as scratch:
        work = Path(scratch)
        for size in sizes:
            make_class(work / f"class-{size}", size, sources)
        print(
            f"{len(sources)} real runs from {CLASS.relative_to(ROOT)}, copied as distinct machines"
        )
        times: dict[int, list[float]] = {size: [] for size in sizes}
        for _round in range(args.rounds):
            for size in sizes:
                times[size].append(time_class(work / f"class-{size}", work / f"out-{size}"))
                shutil.rmtree(work / f"out-{size}")
    print(f"{'run folders':>12} {'median s':>9} {'ms per folder':>14}   all rounds (s)")
    for size in sizes:
        median = statistics.median(times[size])
        rounds = ", ".join(f"{t:.1f}" for t in times[size])
        print(f"{size:>12} {median:>9.1f} {1000 * median / size:>14.1f}   {rounds}")
    smallest, largest = sizes[0], sizes[-1]
    growth = (statistics.median(times[largest]) / largest) / (
        statistics.median(times[smallest]) / smallest
    )
    print(
        f"time per folder at {largest} ÷ at {smallest}: {growth:.2f} "
        f"(1.00 = linear; below: a fixed start-up cost spread over more folders)"
    )
    verdict = "under" if statistics.median(times[largest]) < TARGET_S else "OVER"
    print(f"{largest} folders: {verdict} the {TARGET_S:.0f} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
