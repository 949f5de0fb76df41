"""torchrun on Windows, with the rendezvous's TCPStore told what USE_LIBUV says.

PyPI's Windows builds of torch have no libuv. torch.distributed.elastic's rendezvous
backends (c10d, static, the dynamic handler's store server) create their TCPStore without
passing `use_libuv`, so the store's default, libuv, is requested and refused ("use_libuv
was requested but PyTorch was built without libuv support") even with USE_LIBUV=0 set:
pytorch/pytorch#178600, fix proposed in #196855, not in torch 2.13. So does each worker's
client of the agent's store (torch.distributed.rendezvous reads USE_LIBUV only for a store
of its own): the worker calls `honour_use_libuv` too. Found by the Windows lane: without
this, data_parallel fails on every Windows machine.

Run as a script (`python torchrun_windows.py TORCHRUN-ARGS`), like the worker, so that it
needs only torch on the path: the launcher is a child process started from anywhere.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from typing import Any


def use_libuv_wanted(environ: Mapping[str, str]) -> bool:
    """What torch.distributed.rendezvous decides on Windows: libuv only if asked for."""
    return environ.get("USE_LIBUV", "0") == "1"


def honour_use_libuv() -> None:
    """Make every TCPStore that torchrun's rendezvous creates default to USE_LIBUV's answer;
    an explicit `use_libuv` argument still wins."""
    import torch.distributed as dist
    from torch.distributed.elastic.rendezvous import (
        c10d_rendezvous_backend,
        static_tcp_rendezvous,
    )

    # the module, not the function torch.distributed exports under the same name
    worker_rendezvous = importlib.import_module("torch.distributed.rendezvous")
    wanted = use_libuv_wanted(os.environ)
    original: Any = dist.__dict__["TCPStore"]

    class TCPStore(original):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("use_libuv", wanted)
            super().__init__(*args, **kwargs)

    TCPStore.__name__ = TCPStore.__qualname__ = "TCPStore"
    # every name a store is created through: dynamic_rendezvous calls dist.TCPStore, the
    # others imported the class into their own namespace
    for module in (dist, c10d_rendezvous_backend, static_tcp_rendezvous, worker_rendezvous):
        module.__dict__["TCPStore"] = TCPStore


def main() -> None:
    from torch.distributed import run

    if sys.platform == "win32":
        honour_use_libuv()
    sys.argv[0] = "torchrun"
    run.main()


if __name__ == "__main__":
    main()
