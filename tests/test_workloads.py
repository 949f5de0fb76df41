"""Local MNIST / CIFAR-10 copies: the original file formats, read without any download."""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from experiments.core.devices import CpuDevice
from experiments.core.harness import Progress, RunContext
from experiments.suite.batch_size_scaling import Config as BatchConfig
from experiments.suite.batch_size_scaling import measure as bss
from experiments.workloads import files


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, train: int, test: int, compress: bool) -> None:
    rng = np.random.default_rng(0)
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", train), ("t10k", test)):
        files = {
            f"{prefix}-images-idx3-ubyte": _idx(rng.integers(0, 256, (n, 28, 28))),
            f"{prefix}-labels-idx1-ubyte": _idx(rng.integers(0, 10, (n,))),
        }
        for name, data in files.items():
            path = raw / (name + (".gz" if compress else ""))
            path.write_bytes(gzip.compress(data) if compress else data)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_files_load_like_to_tensor(tmp_path: Path, compress: bool) -> None:
    write_mnist(tmp_path, 300, 50, compress)
    data = files.load_mnist(tmp_path)
    assert data.y_test is not None
    assert tuple(data.x_train.shape) == (300, 1, 28, 28) and tuple(data.y_test.shape) == (50,)
    assert float(data.x_train.min()) >= 0.0 and float(data.x_train.max()) <= 1.0
    assert data.y_train.dtype.is_floating_point is False
    raw = tmp_path / "MNIST" / "raw" / ("train-images-idx3-ubyte" + (".gz" if compress else ""))
    first = (gzip.decompress(raw.read_bytes()) if compress else raw.read_bytes())[16]
    assert float(data.x_train[0, 0, 0, 0]) == pytest.approx(first / 255)


def test_cifar10_pickles_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (4, 3072)).astype(np.uint8),
            b"labels": list(rng.integers(0, 10, 4)),
        }
        buffer = io.BytesIO()
        pickle.dump(batch, buffer)
        (tmp_path / name).write_bytes(buffer.getvalue())
    data = files.load_cifar10(tmp_path)
    assert data.x_test is not None
    assert tuple(data.x_train.shape) == (20, 3, 32, 32) and tuple(data.x_test.shape) == (
        4,
        3,
        32,
        32,
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(files.DatasetNotFound, match="no train-images-idx3-ubyte"):
        files.load_mnist(tmp_path)


def test_batch_size_scaling_times_real_images_when_pointed_at_them(tmp_path: Path) -> None:
    write_mnist(tmp_path, 300, 50, compress=True)
    config = BatchConfig(
        max_batch=64,
        samples_per_epoch=256,
        repeats=1,
        quality_batches=(64,),
        quality_epochs=1,
        confirm_cap=64,
        data_dir=str(tmp_path),
    )
    ctx = RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)
    data = bss.run(config, [CpuDevice()], ctx)
    assert data["data_source"] == {"kind": "mnist_files", "path": str(tmp_path / "MNIST" / "raw")}


def test_mixed_precision_measures_accuracy_on_a_local_mnist(tmp_path: Path) -> None:
    from experiments.suite.mixed_precision import Config as PrecisionConfig
    from experiments.suite.mixed_precision import measure as mp

    write_mnist(tmp_path, 300, 50, compress=False)
    config = PrecisionConfig(
        workloads=("notes_mnist",),
        steps=(5,),
        chunks=5,
        modes=("fp32",),
        repeats=1,
        data_dir=str(tmp_path),
    )
    ctx = RunContext(progress=Progress(stream=io.StringIO()), physical_cores=1)
    workload = mp.run(config, [CpuDevice()], ctx)["per_device"][0]["workloads"][0]
    assert workload["data_source"] == {
        "kind": "mnist_files",
        "path": str(tmp_path / "MNIST" / "raw"),
    }
    assert workload["modes"][0]["accuracy"] is not None  # a real test set, unlike synthetic data
