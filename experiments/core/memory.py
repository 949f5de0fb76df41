"""Where a training step's memory goes, measured tensor by tensor and predicted from shapes.

The notes name four places (parameters + gradients, optimizer state, the data
batch, intermediate activations) and measure none. Here each is measured from
the tensors themselves, storages deduplicated (a view or a transpose shares its
base's memory):

- parameters, gradients: the storages behind `model.parameters()` and `.grad`;
- optimizer state: every tensor in `optimizer.state` after the first step;
- data: the input batch and its labels;
- activations: what autograd saves for backward, seen through
  `torch.autograd.graph.saved_tensors_hooks`, minus what is already a
  parameter or the data;
- under autocast, the low-precision copies of the input and weights that
  autograd saves, kept apart from activations.

The predictions use only shapes, dtypes and the rules of the ops involved, so
a test can hold measurement and arithmetic to the same byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from experiments.workloads.catalog import OPTIMIZER_STATE_COPIES, MlpSpec

# Autograd nodes of views: the saved tensor shares its base's storage.
VIEW_NODES = (
    "TBackward0",
    "TransposeBackward0",
    "ViewBackward0",
    "PermuteBackward0",
    "ExpandBackward0",
    "AliasBackward0",
)

# Bytes of the scalar `total_weight` that nll_loss (inside cross_entropy) saves.
NLL_TOTAL_WEIGHT_BYTES = 4


def _storage(tensor: torch.Tensor) -> tuple[int, int]:
    storage = tensor.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def storage_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind these tensors."""
    return sum(dict(_storage(t) for t in tensors).values())


@dataclass
class SavedTensors:
    """Every storage autograd saved during a forward pass, with a dtype and shape."""

    storages: dict[int, tuple[int, bool]] = field(default_factory=dict)

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        pointer, nbytes = _storage(tensor)
        self.storages.setdefault(pointer, (nbytes, is_autocast_copy(tensor)))
        return tensor


def is_autocast_copy(tensor: torch.Tensor) -> bool:
    """A low-precision copy that autocast made of an input or a weight.

    Copies of weights come out of a cast node (`ToCopyBackward0`); copies of
    inputs that need no gradient have no node at all. Low-precision results of
    real ops (a ReLU's output) carry that op's node, so they stay activations,
    even when their shape happens to equal a weight's.
    """
    if tensor.dtype not in (torch.float16, torch.bfloat16):
        return False
    node = tensor.grad_fn
    # Linear saves the copy's transpose: look through view nodes to what they view.
    while node is not None and type(node).__name__ in VIEW_NODES:
        node = node.next_functions[0][0]
    return node is None or type(node).__name__ == "ToCopyBackward0"


def optimizer_state_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [
        value
        for state in optimizer.state.values()
        for value in state.values()
        if isinstance(value, torch.Tensor)
    ]


def measure_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    autocast_dtype: torch.dtype | None = None,
) -> dict[str, int]:
    """One training step (forward, cross-entropy, backward, step), measured by bucket."""
    device_type = x.device.type
    params = list(model.parameters())
    param_storages = {_storage(p)[0] for p in params}
    data_storages = {_storage(x)[0], _storage(y)[0]}
    saved = SavedTensors()
    optimizer.zero_grad(set_to_none=True)
    enabled = autocast_dtype is not None
    with (
        torch.autograd.graph.saved_tensors_hooks(saved.pack, lambda tensor: tensor),
        torch.autocast(device_type, dtype=autocast_dtype or torch.float32, enabled=enabled),
    ):
        loss = nn.functional.cross_entropy(model(x), y)
    activations = copies = 0
    for pointer, (nbytes, copy) in saved.storages.items():
        if pointer in param_storages or pointer in data_storages:
            continue
        if copy:
            copies += nbytes
        else:
            activations += nbytes
    loss.backward()  # type: ignore[no-untyped-call]
    gradients = storage_bytes(p.grad for p in params if p.grad is not None)
    optimizer.step()
    return {
        "parameters": storage_bytes(params),
        "gradients": gradients,
        "optimizer_state": storage_bytes(optimizer_state_tensors(optimizer)),
        "data": storage_bytes([x, y]),
        "activations": activations,
        "autocast_copies": copies,
    }


def predict_step(
    shape: MlpSpec,
    optimizer: str,
    batch: int,
    autocast_bytes: int | None = None,
    state_on_device: bool = True,
) -> dict[str, int]:
    """The same buckets from shapes and dtypes alone.

    - parameters and gradients: 4 B per parameter each (float32);
    - optimizer state: SGD nothing; momentum one buffer per parameter; Adam two
      (exp_avg, exp_avg_sq) plus a 4-byte `step` scalar per parameter tensor,
      which on a GPU stays on the host (`state_on_device=False` leaves it out);
    - data: float32 inputs and int64 labels;
    - activations: autograd saves each ReLU's output (shared with the next
      Linear, which needs it for its weight gradient), the log-softmax output
      inside cross-entropy (always float32) and nll_loss's 4-byte total weight.
      The first Linear saves its input (the data) but not its weight: the data
      needs no gradient;
    - under autocast (`autocast_bytes` per element, 2 for fp16/bf16) the saved
      input copy and the copies of every weight after the first are low
      precision, and so are the ReLU outputs.
    """
    params = shape.parameter_count
    tensors = 2 * len(shape.layers)
    state = OPTIMIZER_STATE_COPIES[optimizer] * params * 4
    if optimizer == "adam" and state_on_device:
        state += 4 * tensors
    element = autocast_bytes or 4
    hidden = sum(batch * width * element for width in shape.widths[1:-1])
    activations = hidden + batch * shape.widths[-1] * 4 + NLL_TOTAL_WEIGHT_BYTES
    copies = 0
    if autocast_bytes:
        copies = batch * shape.widths[0] * element + sum(
            i * o * element for i, o in shape.layers[1:]
        )
    return {
        "parameters": params * 4,
        "gradients": params * 4,
        "optimizer_state": state,
        "data": batch * shape.widths[0] * 4 + batch * 8,
        "activations": activations,
        "autocast_copies": copies,
    }
