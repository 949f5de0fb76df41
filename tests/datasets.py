"""Tiny local copies of the real data sets, written byte for byte in their published formats,
so settings checks and loaders are tested without downloading anything."""

from __future__ import annotations

import gzip
from pathlib import Path


def small_mnist(folder: Path, train: int = 100, test: int = 10) -> str:
    """An MNIST folder (torchvision layout, gzipped IDX) of blank images; returns its path."""
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, count in (("train", train), ("t10k", test)):
        header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (count, 28, 28))
        (raw / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(header + bytes(count * 784))
        )
        labels = bytes([0, 0, 8, 1]) + count.to_bytes(4, "big") + bytes(count)
        (raw / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    return str(folder)
