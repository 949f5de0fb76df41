"""Real MNIST and CIFAR-10 from a local copy, for users who have one.

Nothing is downloaded (no network here, and a study tool should not fetch
data behind a student's back). Point an experiment's `data_dir` setting at a
folder holding either data set in its original distribution format:

- MNIST: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
  `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (optionally `.gz`),
  directly in the folder or in `MNIST/raw/` as torchvision stores them;
- CIFAR-10: `data_batch_1` … `data_batch_5` and `test_batch` (the "python
  version" pickles), directly or in `cifar-10-batches-py/`.

Pixels come back as float32 in [0, 1] with the sample shape torchvision's
`ToTensor()` gives ([1, 28, 28], [3, 32, 32]); labels as int64.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

from experiments.workloads.split import Split  # torch-free: the header check needs no torch


class DatasetNotFound(Exception):
    """The folder does not hold the data set; the message says which file is missing."""


def _mnist_root(folder: Path) -> Path:
    return folder / "MNIST" / "raw" if (folder / "MNIST" / "raw").is_dir() else folder


def _cifar_root(folder: Path) -> Path:
    return folder / "cifar-10-batches-py" if (folder / "cifar-10-batches-py").is_dir() else folder


def training_samples(kind: str, folder: Path) -> int:
    """How many training samples a local copy holds, read from the files' headers (no torch,
    nothing decoded): what a setting check needs before a run starts. DatasetNotFound names
    the missing or broken file."""
    if kind == "mnist_files":
        root = _mnist_root(folder)
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
            _header(root, name)  # both must be there and readable
        header = _header(root, "train-images-idx3-ubyte")
        return int.from_bytes(header[4:8], "big")
    if kind == "cifar10_files":
        root = _cifar_root(folder)
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            if not (root / name).is_file():
                raise DatasetNotFound(f"{root}: no {name}")
        return sum(len(_cifar_batch(root, f"data_batch_{i}")[1]) for i in range(1, 6))
    raise ValueError(f"no reader for {kind!r}")


def _header(folder: Path, name: str) -> bytes:
    """The first 16 bytes of an IDX file (magic, then sizes), gzipped or not."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            opener = gzip.open if candidate.suffix == ".gz" else open
            try:
                with opener(candidate, "rb") as handle:
                    header = bytes(handle.read(16))
            except OSError as error:
                raise DatasetNotFound(f"{candidate}: cannot read ({error})") from None
            if len(header) < 8 or header[:3] != b"\x00\x00\x08":
                raise DatasetNotFound(f"{candidate}: not an unsigned-byte IDX file")
            return header
    raise DatasetNotFound(f"{folder}: no {name} (or {name}.gz)")


def _open(folder: Path, name: str) -> bytes:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            raw = candidate.read_bytes()
            return gzip.decompress(raw) if candidate.suffix == ".gz" else raw
    raise DatasetNotFound(f"{folder}: no {name} (or {name}.gz)")


def _idx(data: bytes, name: str) -> np.ndarray:
    """An IDX file (big-endian header: magic with the number of dimensions, then sizes)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetNotFound(f"{name}: not an unsigned-byte IDX file")
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise DatasetNotFound(f"{name}: {body.size} bytes of data for shape {shape}")
    return body.reshape(shape)


def load_mnist(folder: Path) -> Split:
    import torch

    root = _mnist_root(folder)
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = _idx(_open(root, f"{prefix}-images-idx3-ubyte"), f"{prefix}-images")
        labels = _idx(_open(root, f"{prefix}-labels-idx1-ubyte"), f"{prefix}-labels")
        if images.shape[0] != labels.shape[0]:
            raise DatasetNotFound(
                f"{root}: {images.shape[0]} {split} images, {labels.shape[0]} labels"
            )
        parts[split] = (
            torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1),
            torch.from_numpy(labels.astype(np.int64)),
        )
    return Split(*parts["train"], *parts["test"], kind="mnist_files", path=str(root))


def _cifar_batch(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    path = folder / name
    if not path.is_file():
        raise DatasetNotFound(f"{folder}: no {name}")
    with path.open("rb") as handle:
        batch = pickle.load(handle, encoding="bytes")  # the data set's own format
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return data, np.asarray(batch[b"labels"], dtype=np.int64)


def load_cifar10(folder: Path) -> Split:
    import torch

    root = _cifar_root(folder)
    train = [_cifar_batch(root, f"data_batch_{i}") for i in range(1, 6)]
    test_x, test_y = _cifar_batch(root, "test_batch")
    x = np.concatenate([b[0] for b in train])
    y = np.concatenate([b[1] for b in train])
    return Split(
        torch.from_numpy(x.astype(np.float32) / 255.0),
        torch.from_numpy(y),
        torch.from_numpy(test_x.astype(np.float32) / 255.0),
        torch.from_numpy(test_y),
        kind="cifar10_files",
        path=str(root),
    )
