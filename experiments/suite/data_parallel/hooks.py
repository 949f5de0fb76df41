"""A DDP communication hook that counts the buckets DDP all-reduces.

This module alone does without `from __future__ import annotations`: DDP checks
that a hook's `bucket` annotation is the GradBucket class itself, and postponed
annotations would hand it the name instead.
"""

from dataclasses import dataclass, field

import torch
import torch.distributed as dist

# public (torch.distributed.GradBucket in the DDP hook documentation), re-exported implicitly
from torch.distributed import GradBucket  # type: ignore[attr-defined]
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks


@dataclass
class BucketLog:
    """DDP's buckets of the last step, in bytes, as its communication hook saw them."""

    group: dist.ProcessGroup
    sizes: list[int] = field(default_factory=list)


def counting_allreduce(state: BucketLog, bucket: GradBucket) -> torch.futures.Future[torch.Tensor]:
    """DDP's own all-reduce (`allreduce_hook`), after noting the bucket's size. Used for the
    untimed equality check only, so the timed runs keep DDP's built-in C++ path."""
    if bucket.index() == 0:
        state.sizes.clear()  # a new step's first bucket
    buffer = bucket.buffer()
    state.sizes.append(buffer.numel() * buffer.element_size())
    return default_hooks.allreduce_hook(state.group, bucket)
