"""The report's glossary: every technical term it uses, explained once, linked from its first use.

Templates write `{{ term("iqr") }}`: the first use in a document is a link to
the glossary entry, later uses are the plain word. The glossary at the end of
the document lists the terms it used, in the order a reader met them. A
section module may add terms of its own (`TERMS`, same shape), so an
experiment brings its vocabulary with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from experiments.contract.declaration import N_
from report.words.i18n import _

# key -> (the term, what it means). Both are messages, translated when shown.
TERMS: dict[str, tuple[str, str]] = {
    "median": (
        N_("median"),
        N_(
            "The middle value of the repeats: half were faster, half slower. Unlike the mean, "
            "one slow outlier cannot move it, so it is what a rerun reproduces."
        ),
    ),
    "iqr": (
        N_("IQR"),
        N_(
            "Interquartile range: the spread of the middle half of the repeats, from the 25th to "
            "the 75th percentile. Differences smaller than it are noise."
        ),
    ),
    "cv": (
        N_("CV"),
        N_(
            "Coefficient of variation: the standard deviation of the repeats divided by their "
            "mean. Above 5 % a measurement is flagged noisy, and its numbers are rounded to the "
            "digits that spread leaves certain."
        ),
    ),
    "warmup": (
        N_("warm-up"),
        N_(
            "A first run that is not timed: it pays one-off costs such as loading libraries, "
            "allocating memory and filling caches."
        ),
    ),
    "flop": (
        N_("FLOP"),
        N_(
            "One floating-point operation (an addition or a multiplication). GFLOP/s is billions "
            "of them per second: the arithmetic rate."
        ),
    ),
    "operator": (
        N_("operator"),
        N_(
            "One PyTorch operation, such as a matrix multiply or an addition, dispatched on its "
            "own. Each one costs a fixed few microseconds before any arithmetic happens."
        ),
    ),
    "dispatcher": (
        N_("dispatcher"),
        N_(
            "The layer of PyTorch that decides, for every operator call, which implementation "
            "runs (CPU or CUDA, with or without autograd). Its cost is per call, not per number."
        ),
    ),
    "kernel": (
        N_("kernel"),
        N_(
            "A function the GPU runs. The CPU launches every kernel, which costs a few "
            "microseconds whatever the kernel's size; the notes call this the launch overhead."
        ),
    ),
    "sync": (
        N_("synchronisation"),
        N_(
            "The CPU waiting until the GPU has finished the work queued so far. loss.item() "
            "does it implicitly, because it needs the value on the host."
        ),
    ),
    "vram": (
        N_("VRAM"),
        N_(
            "The GPU's own memory. Parameters, gradients, optimizer state, the batch and the "
            "activations of a training step must all fit in it."
        ),
    ),
    "activations": (
        N_("activations"),
        N_(
            "Intermediate results of the forward pass that autograd keeps for the backward "
            "pass; they grow with the batch size."
        ),
    ),
    "optimizer_state": (
        N_("optimizer state"),
        N_(
            "What an optimizer keeps between steps: SGD with momentum one buffer per parameter, "
            "Adam two."
        ),
    ),
    "batch_size": (
        N_("batch size"),
        N_("How many samples one training step processes together."),
    ),
    "epoch": (
        N_("epoch"),
        N_(
            "One pass over the training data. On Iris the whole training set is one batch, so "
            "an epoch is one training step."
        ),
    ),
    "autocast": (
        N_("autocast"),
        N_(
            "PyTorch's mixed precision: suitable operations run in FP16 or BF16 while the "
            "weights stay FP32."
        ),
    ),
    "fp16_bf16": (
        N_("FP16 / BF16"),
        N_(
            "16-bit floating-point formats. FP16 keeps more precision but a small range "
            "(small gradients underflow to zero); BF16 keeps FP32's range with less precision."
        ),
    ),
    "gradscaler": (
        N_("GradScaler"),
        N_(
            "Multiplies the loss before backward so that small FP16 gradients do not become "
            "zero, and skips a step whose gradients overflowed."
        ),
    ),
    "tf32": (
        N_("TF32"),
        N_(
            "A tensor-core mode for FP32 matrix multiplies on NVIDIA GPUs from Ampere on: FP32's "
            "range with FP16's precision, much faster."
        ),
    ),
    "tensor_cores": (
        N_("tensor cores"),
        N_(
            "NVIDIA GPU units that multiply small matrices in low precision very fast (FP16 from "
            "Volta, BF16 and TF32 from Ampere)."
        ),
    ),
    "compute_capability": (
        N_("compute capability"),
        N_(
            "NVIDIA's version number for what a GPU can do: 7.0 Volta, 7.5 Turing, 8.0 and 8.6 "
            "Ampere, 8.9 Ada Lovelace, 9.0 Hopper."
        ),
    ),
    "sm": (
        N_("SM"),
        N_(
            "Streaming multiprocessor: the GPU's unit of cores. More SMs can run more work in "
            "parallel, if there is enough work."
        ),
    ),
    "cpu_extensions": (
        N_("AVX2 / AVX-512 / AMX"),
        N_(
            "CPU instruction-set extensions for vector and matrix arithmetic. Which ones a CPU "
            "has decides which fast kernels PyTorch can use on it."
        ),
    ),
    "onednn": (
        N_("oneDNN"),
        N_("Intel's library of fast CPU kernels that PyTorch uses (formerly called MKL-DNN)."),
    ),
    "torch_compile": (
        N_("torch.compile"),
        N_(
            "PyTorch's compiler: it captures Python code into a graph and generates fused code "
            "for it. The first call pays for the compilation."
        ),
    ),
    "cuda_graph": (
        N_("CUDA graph"),
        N_("A recorded sequence of GPU kernels replayed with a single launch from the CPU."),
    ),
    "p_value": (
        N_("p-value"),
        N_(
            "How often a difference at least this large would arise by chance alone if there "
            "were no real difference. Small p: unlikely to be chance."
        ),
    ),
    "confidence_interval": (
        N_("95 % interval"),
        N_(
            "A range computed so that, done the same way many times, it would contain the true "
            "value 95 times out of 100."
        ),
    ),
    "kruskal_wallis": (
        N_("Kruskal–Wallis test"),
        N_(
            "A rank test of whether several groups of repeats come from one distribution; a "
            "p-value below the chosen level means at least one group differs."
        ),
    ),
    "mann_whitney": (
        N_("Mann–Whitney U test"),
        N_(
            "A rank test of whether two sets of repeats differ. Ranks make it robust to one "
            "slow outlier."
        ),
    ),
}


@dataclass
class Glossary:
    """The terms of one rendered document: which were used, in order, and their links."""

    terms: dict[str, tuple[str, str]]
    used: list[str] = field(default_factory=list)

    def term(self, key: str, text: str | None = None) -> Markup:
        """The term's word (or `text`, e.g. its plural): a link to its entry on first use,
        then plain."""
        word, _definition = self.terms[key]
        shown = escape(text if text is not None else _(word))
        if key in self.used:
            return Markup(shown)
        self.used.append(key)
        return Markup(f'<a class="term" href="#term-{key}">{shown}</a>')

    def entries(self) -> list[dict[str, str]]:
        return [
            {"key": key, "term": _(self.terms[key][0]), "definition": _(self.terms[key][1])}
            for key in self.used
        ]
