"""Two processes, one gloo all_reduce, nothing of the product: run by the Windows lane on
Windows CPython when data_parallel fails there, to tell a Wine gap from a product bug.

This is PyTorch's documented Windows route (gloo, a FileStore, `spawn`), so on Windows it
prints `all_reduce [3.0, 3.0, 3.0, 3.0]` twice. Under Wine 8 the receive in gloo's libuv
transport never completes. Prints one line per rank.
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
import time

import torch
import torch.distributed as dist
from torch.multiprocessing.spawn import ProcessExitedException, spawn

TIMEOUT_S = 15


def work(rank: int, store: str) -> None:
    dist.init_process_group(
        "gloo",
        init_method="file:///" + store.replace("\\", "/"),
        rank=rank,
        world_size=2,
        timeout=datetime.timedelta(seconds=TIMEOUT_S),
    )
    values = torch.ones(4) * (rank + 1)
    began = time.perf_counter()
    try:
        dist.all_reduce(values)
        print(f"rank {rank}: all_reduce {values.tolist()} in {time.perf_counter() - began:.3f} s")
    except RuntimeError as error:
        print(f"rank {rank}: failed: {str(error)[:200]}")
    sys.stdout.flush()
    dist.destroy_process_group()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        try:
            spawn(work, args=(os.path.join(folder, "store"),), nprocs=2)  # type: ignore[no-untyped-call]
        except ProcessExitedException as error:
            print(f"spawn: {error}")
