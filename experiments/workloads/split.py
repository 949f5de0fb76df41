"""The samples a workload trains on: one type for what every loader returns, whether the
data come from scikit-learn (data.py) or from files on disk (files.py).

Torch-free at import: the tensors' type is only named, so the files' header checks, which
import this, need no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from experiments.contract.format import shareable_path

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Split:
    """float32 features and int64 labels; `x_test` is None where the data are synthetic."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor | None
    y_test: torch.Tensor | None
    kind: str  # one of catalog.DATA_KINDS
    path: str | None = None  # the folder it was read from, if any

    @property
    def source(self) -> dict[str, Any]:
        """The result-file record of where these samples came from (home as ~)."""
        return {"kind": self.kind, "path": shareable_path(self.path) if self.path else None}

    @property
    def rows(self) -> int:
        return int(self.x_train.shape[0])
