"""The study notes' published numbers, quoted beside the user's own.

These are citations, not results: each carries the note it comes from (000 or 001)
and the hardware the notes name, and the report always labels them as the notes'.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.contract.declaration import N_


@dataclass(frozen=True)
class PublishedTiming:
    source: str  # which note
    hardware: str  # as the note names it
    device_kind: str  # "cpu" or "gpu"
    epochs: int
    seconds: float
    detail: str

    @property
    def per_epoch_s(self) -> float:
        return self.seconds / self.epochs


# Experiment 1: 20 000 full-batch epochs of the Iris MLP, timed once with time.time().
IRIS_TIMINGS: tuple[PublishedTiming, ...] = (
    PublishedTiming(
        "001",
        N_("12th Gen Intel Core i9-12900KF (16 cores, 24 threads)"),
        "cpu",
        20_000,
        2.93,
        N_("single run, no warm-up"),
    ),
    PublishedTiming(
        "001",
        "NVIDIA GeForce RTX 3080 Ti (CUDA 11.1, cuDNN 8005)",
        "gpu",
        20_000,
        11.29,
        N_("single run, no warm-up, no synchronisation"),
    ),
    PublishedTiming(
        "000", N_("CPU (model not named)"), "cpu", 20_000, 10.48, N_("single run, no warm-up")
    ),
)

# Loss printed by note 000 at these epochs (no torch seed was set there, so
# its starting weights, and therefore these values, cannot be reproduced).
IRIS_PRINTED_LOSS: dict[int, float] = {1000: 0.6529, 5000: 0.1712, 10_000: 0.0885, 20_000: 0.0615}


# Experiment 2 (note 001): loss recorded every k epochs on the RTX 3080 Ti, 20 000
# epochs, single runs. The note's "remaining time" is the total minus about 3 s
# that it attributes to set-up; it does not say how that was measured.
LOGGING_REMAINING_S: dict[int, float] = {100: 10.43, 200: 10.02, 1000: 10.12, 2000: 9.74}
LOGGING_HARDWARE = "NVIDIA GeForce RTX 3080 Ti"
