"""The lower rungs of the ladder: the notes' step without the framework around it.

Each rung does the notes' step exactly (Linear(4, h) → ReLU → Linear(h, 3),
mean cross-entropy, its gradients, the SGD update) with less between Python and
the arithmetic:

- `compiled_step`: the whole step (forward, loss, backward, update) traced as one
  pure function with torch.func and compiled as one graph by torch.compile; on
  a CPU with inductor's C++ wrapper, so the compiled code is called from C++
  rather than from generated Python;
- `numpy`: the same arithmetic in NumPy: no autograd, no dispatcher, but still
  a Python call per array operation;
- `cpp`: the step as one C++ function of plain loops, built at run time by
  PyTorch's extension loader: one Python call per step, nothing else.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from experiments.core.devices import Device
from experiments.core.harness import NotHere

Weights = list[torch.Tensor]


def weights(model: nn.Module) -> Weights:
    """fc1.weight, fc1.bias, fc2.weight, fc2.bias as independent contiguous copies."""
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    first, second = linear
    return [
        t.detach().clone().contiguous()
        for t in (first.weight, first.bias, second.weight, second.bias)
    ]


# --------------------------------------------------------------------------
# The whole step, compiled


def _pure_step(lr: float) -> Callable[..., tuple[torch.Tensor, ...]]:
    def loss_of(
        w1: torch.Tensor,
        b1: torch.Tensor,
        w2: torch.Tensor,
        b2: torch.Tensor,
        x: torch.Tensor,
        y: torch.Tensor,
    ) -> torch.Tensor:
        hidden = torch.relu(x @ w1.t() + b1)
        return nn.functional.cross_entropy(hidden @ w2.t() + b2, y)

    gradients = torch.func.grad_and_value(loss_of, argnums=(0, 1, 2, 3))

    def step(
        w1: torch.Tensor,
        b1: torch.Tensor,
        w2: torch.Tensor,
        b2: torch.Tensor,
        x: torch.Tensor,
        y: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        (g1, gb1, g2, gb2), loss = gradients(w1, b1, w2, b2, x, y)
        return loss, w1 - lr * g1, b1 - lr * gb1, w2 - lr * g2, b2 - lr * gb2

    return step


# One compiled step per (device kind, backend, learning rate) and process: every repeat
# passes its own fresh weights as inputs, so nothing is compiled twice.
_COMPILED: dict[tuple[str, str, float], Callable[..., tuple[torch.Tensor, ...]]] = {}


def compile_options(backend: str, device: Device) -> dict[str, Any] | None:
    """inductor's C++ wrapper on a CPU: the generated kernels are called from C++, not from
    a generated Python function (the overhead that matters at this size)."""
    if backend == "inductor" and device.kind == "cpu":
        return {"cpp_wrapper": True}
    return None


def compiled_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, backend: str, device: Device
) -> tuple[Callable[[int], list[float]], Callable[[], Weights]]:
    key = (device.kind, backend, lr)
    if key not in _COMPILED:
        _COMPILED[key] = torch.compile(
            _pure_step(lr),
            backend=backend,
            fullgraph=True,
            options=compile_options(backend, device),
        )
    step = _COMPILED[key]
    state = weights(model)

    def run(steps: int) -> list[float]:
        losses: list[float] = []
        for _ in range(steps):
            loss, *state[:] = step(*state, x, y)
            losses.append(loss.item())
        return losses

    return run, lambda: state


# --------------------------------------------------------------------------
# NumPy


def numpy_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, device: Device
) -> tuple[Callable[[int], list[float]], Callable[[], Weights]]:
    if device.kind != "cpu":
        raise NotHere("cpu_only")
    w1, b1, w2, b2 = (t.numpy() for t in weights(model))
    inputs = x.detach().numpy().astype(np.float32)
    classes = w2.shape[0]
    onehot = np.eye(classes, dtype=np.float32)[y.detach().numpy()]
    rows = np.float32(inputs.shape[0])
    rate = np.float32(lr)

    def run(steps: int) -> list[float]:
        losses: list[float] = []
        for _ in range(steps):
            hidden = inputs @ w1.T + b1
            active = np.maximum(hidden, 0)
            logits = active @ w2.T + b2
            shifted = logits - logits.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            loss = -(log_p * onehot).sum() / rows
            d_logits = (np.exp(log_p) - onehot) / rows
            d_hidden = (d_logits @ w2) * (hidden > 0)
            w2[...] -= rate * (d_logits.T @ active)  # in place: the arrays outlive the call
            b2[...] -= rate * d_logits.sum(axis=0)
            w1[...] -= rate * (d_hidden.T @ inputs)
            b1[...] -= rate * d_hidden.sum(axis=0)
            losses.append(float(loss))
        return losses

    return run, lambda: [torch.from_numpy(a) for a in (w1, b1, w2, b2)]


# --------------------------------------------------------------------------
# One C++ function

CPP_SOURCE = r"""
#include <torch/extension.h>
#include <algorithm>
#include <cmath>
#include <vector>

// One SGD step of Linear(d, h) -> ReLU -> Linear(h, c) with mean cross-entropy, in place,
// over float32 as torch computes it; returns the loss before the update. The inputs come
// transposed (d x n), so every inner loop runs along the n rows of the batch: contiguous,
// and the compiler turns those loops into vector instructions.
double step(torch::Tensor w1, torch::Tensor b1, torch::Tensor w2, torch::Tensor b2,
            torch::Tensor xt, torch::Tensor y, double lr) {
  const int64_t d = xt.size(0), n = xt.size(1), h = w1.size(0), c = w2.size(0);
  float* W1 = w1.data_ptr<float>();
  float* B1 = b1.data_ptr<float>();
  float* W2 = w2.data_ptr<float>();
  float* B2 = b2.data_ptr<float>();
  const float* XT = xt.data_ptr<float>();
  const int64_t* Y = y.data_ptr<int64_t>();
  thread_local std::vector<float> hid, act, logit, prob, dh, top, total, g1, gb1, g2, gb2;
  hid.resize(h * n); act.resize(h * n); logit.resize(c * n); prob.resize(c * n);
  dh.resize(h * n); top.resize(n); total.resize(n);
  g1.assign(h * d, 0.f); gb1.assign(h, 0.f); g2.assign(c * h, 0.f); gb2.assign(c, 0.f);
  for (int64_t j = 0; j < h; ++j) {  // hidden = x W1^T + b1, then ReLU
    float* hj = &hid[j * n];
    std::fill(hj, hj + n, B1[j]);
    for (int64_t k = 0; k < d; ++k) {
      const float w = W1[j * d + k];
      const float* xk = XT + k * n;
      for (int64_t i = 0; i < n; ++i) hj[i] += w * xk[i];
    }
    float* aj = &act[j * n];
    for (int64_t i = 0; i < n; ++i) aj[i] = hj[i] > 0.f ? hj[i] : 0.f;
  }
  for (int64_t m = 0; m < c; ++m) {  // logits = act W2^T + b2
    float* lm = &logit[m * n];
    std::fill(lm, lm + n, B2[m]);
    for (int64_t j = 0; j < h; ++j) {
      const float w = W2[m * h + j];
      const float* aj = &act[j * n];
      for (int64_t i = 0; i < n; ++i) lm[i] += w * aj[i];
    }
  }
  std::copy(logit.begin(), logit.begin() + n, top.begin());  // softmax, stably
  for (int64_t m = 1; m < c; ++m)
    for (int64_t i = 0; i < n; ++i) top[i] = std::max(top[i], logit[m * n + i]);
  std::fill(total.begin(), total.end(), 0.f);
  for (int64_t m = 0; m < c; ++m)
    for (int64_t i = 0; i < n; ++i) {
      const float e = std::exp(logit[m * n + i] - top[i]);
      prob[m * n + i] = e;
      total[i] += e;
    }
  double loss = 0.0;
  for (int64_t i = 0; i < n; ++i)
    loss += -(logit[Y[i] * n + i] - top[i] - std::log(total[i]));
  const float inv_n = 1.f / static_cast<float>(n);
  for (int64_t m = 0; m < c; ++m)  // d loss / d logits
    for (int64_t i = 0; i < n; ++i)
      prob[m * n + i] = (prob[m * n + i] / total[i] - (Y[i] == m ? 1.f : 0.f)) * inv_n;
  for (int64_t m = 0; m < c; ++m) {
    const float* pm = &prob[m * n];
    float sum = 0.f;
    for (int64_t i = 0; i < n; ++i) sum += pm[i];
    gb2[m] = sum;
    for (int64_t j = 0; j < h; ++j) {
      const float* aj = &act[j * n];
      float dot = 0.f;
      for (int64_t i = 0; i < n; ++i) dot += pm[i] * aj[i];
      g2[m * h + j] = dot;
    }
  }
  for (int64_t j = 0; j < h; ++j) {  // back through W2 (before its update) and the ReLU
    float* dj = &dh[j * n];
    std::fill(dj, dj + n, 0.f);
    for (int64_t m = 0; m < c; ++m) {
      const float w = W2[m * h + j];
      const float* pm = &prob[m * n];
      for (int64_t i = 0; i < n; ++i) dj[i] += w * pm[i];
    }
    const float* hj = &hid[j * n];
    float sum = 0.f;
    for (int64_t i = 0; i < n; ++i) {
      dj[i] = hj[i] > 0.f ? dj[i] : 0.f;
      sum += dj[i];
    }
    gb1[j] = sum;
    for (int64_t k = 0; k < d; ++k) {
      const float* xk = XT + k * n;
      float dot = 0.f;
      for (int64_t i = 0; i < n; ++i) dot += dj[i] * xk[i];
      g1[j * d + k] = dot;
    }
  }
  const float rate = static_cast<float>(lr);
  for (int64_t q = 0; q < h * d; ++q) W1[q] -= rate * g1[q];
  for (int64_t q = 0; q < h; ++q) B1[q] -= rate * gb1[q];
  for (int64_t q = 0; q < c * h; ++q) W2[q] -= rate * g2[q];
  for (int64_t q = 0; q < c; ++q) B2[q] -= rate * gb2[q];
  return loss / static_cast<double>(n);
}

// The same call with nothing inside: what crossing from Python into C++ costs per step.
double call_only(torch::Tensor w1, torch::Tensor b1, torch::Tensor w2, torch::Tensor b2,
                 torch::Tensor xt, torch::Tensor y, double lr) {
  return lr;
}
"""

# Optimised for this machine's own vector instructions (it is built where it runs);
# fast-math lets the compiler vectorise the sums and exp (the equality check still holds).
CPP_FLAGS = {
    "Windows": ["/O2", "/fp:fast", "/arch:AVX2"],
    "other": ["-O3", "-march=native", "-ffast-math"],
}

_EXTENSION: list[Any] = []


def compiler() -> str | None:
    """The C++ compiler PyTorch's extension loader would use here, or None."""
    if platform.system() == "Windows":
        return shutil.which("cl")  # MSVC, from a "Developer PowerShell"
    return shutil.which(os.environ.get("CXX", "c++"))


def extension() -> Any:
    """The step's C++ extension, built once per process (and cached on disk by torch)."""
    if not _EXTENSION:
        if compiler() is None:
            raise NotHere("no_compiler")
        from torch.utils.cpp_extension import load_inline

        _EXTENSION.append(
            load_inline(  # type: ignore[no-untyped-call]
                name="notes_iris_step",
                cpp_sources=[CPP_SOURCE],
                functions=["step", "call_only"],
                extra_cflags=CPP_FLAGS.get(platform.system(), CPP_FLAGS["other"]),
                verbose=False,
            )
        )
    return _EXTENSION[0]


def cpp_call_seconds(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """One call of the extension with the step's arguments and an empty body: the part of
    the C++ rung's time that is the crossing from Python (median of 5 × 2000 calls)."""
    native = extension()
    arguments = [*weights(model), x.detach().t().contiguous(), y.detach().contiguous(), 0.01]
    for _ in range(200):
        native.call_only(*arguments)
    readings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(2000):
            native.call_only(*arguments)
        readings.append((time.perf_counter() - start) / 2000)
    return sorted(readings)[2]


def cpp_step(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, device: Device
) -> tuple[Callable[[int], list[float]], Callable[[], Weights]]:
    if device.kind != "cpu":
        raise NotHere("cpu_only")
    native = extension()
    state = weights(model)
    inputs = x.detach().t().contiguous()  # features × rows: the loops run along the rows
    labels = y.detach().contiguous()

    def run(steps: int) -> list[float]:
        losses: list[float] = []
        for _ in range(steps):
            losses.append(native.step(*state, inputs, labels, lr))
        return losses

    return run, lambda: state
