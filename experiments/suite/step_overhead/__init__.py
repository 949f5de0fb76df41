"""Where the time of one tiny training step goes: the notes' Iris step done several ways,
each checked to compute the same thing, against the floor that arithmetic alone allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.shapes import (
    NUMBER,
    OPT_NUMBER,
    REASON_SPEC,
    SUMMARY_SPEC,
    Nullable,
    device_entry,
)

# The ways of doing the step, in the report's order (the report says what each changes).
VARIANTS = (
    "notes",
    "forward_call",
    "keep_grads",
    "foreach",
    "fused",
    "manual",
    "compiled",
    "cuda_graph",
)


@dataclass(frozen=True)
class Config:
    seed: int = 0  # every variant starts from the same weights
    steps: int = 2000  # training steps per timed repeat
    lr: float = 0.01  # the notes' SGD learning rate
    hidden: int = 10  # the notes' 4-10-3 network
    warmup: int = 1  # discarded runs per variant and device (after a first-call probe)
    repeats: int = 5  # timed runs per variant and device, interleaved
    threads: int = 1  # torch intra-op threads on the CPU
    variants: tuple[str, ...] = VARIANTS  # which ways of doing the step to time
    compile_backend: str = "inductor"  # torch.compile backend; "eager" captures without codegen
    loss_tolerance: float = 1e-5  # |final loss - notes' final loss| allowed
    param_tolerance: float = 1e-5  # largest |parameter - notes' parameter| allowed
    profile_steps: int = 20  # steps run under torch.profiler to count operations
    peak_size: int = 1024  # n for the n×n float32 matmul that measures peak FLOP/s

    def __post_init__(self) -> None:
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown:
            raise ValueError(f"unknown variants {unknown}; known: {list(VARIANTS)}")
        if "notes" not in self.variants:
            raise ValueError("variants must include 'notes': every other one is checked against it")
        if min(self.steps, self.repeats, self.warmup, self.threads, self.profile_steps) < 1:
            raise ValueError("steps, repeats, warmup, threads and profile_steps must be >= 1")


DATA_SPEC = {
    "steps": int,
    "threads": int,
    "flops_per_step": int,
    "hooks": {"model_call_runs_hook": bool, "forward_runs_hook": bool},
    "per_device": [
        device_entry(
            peak_flops=NUMBER,
            floor_step_s=NUMBER,
            variants=[
                {
                    "variant": str,
                    "unsupported": Nullable(REASON_SPEC),
                    "first_call_s": OPT_NUMBER,
                    "warmup_s": [NUMBER],
                    "step_s": [NUMBER],
                    "summary": SUMMARY_SPEC,
                    "final_loss": OPT_NUMBER,
                    "loss_difference": OPT_NUMBER,
                    "max_parameter_difference": OPT_NUMBER,
                    "equivalent": (bool, None),
                    "ops_per_step": OPT_NUMBER,
                    "kernels_per_step": OPT_NUMBER,
                    "syncs_per_step": OPT_NUMBER,
                }
            ],
        )
    ],
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["per_device"],
        lambda e: [
            (f"variant/{v['variant']}", "{variant}", {"variant": v["variant"]}, v["step_s"])
            for v in e["variants"]
        ],
    )


DECLARATION = Declaration(
    name="step_overhead",
    order=30,
    title=N_("Step overhead: where a tiny training step's time goes"),
    config=Config,
    profiles={
        "default": Config(),
        # "eager" keeps dynamo's capture in the quick profile without inductor's ~20 s codegen
        "quick": Config(steps=300, repeats=3, compile_backend="eager", peak_size=256),
        "smoke": Config(
            steps=30, repeats=2, compile_backend="eager", peak_size=64, profile_steps=3
        ),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
)
