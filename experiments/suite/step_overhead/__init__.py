"""Where the time of one tiny training step goes: the notes' Iris step done several ways,
each checked to compute the same thing, against the floor that arithmetic alone allows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from experiments.contract.declaration import N_, Declaration, Metric, device_metrics
from experiments.contract.settings import SEED, Settings, setting
from experiments.contract.shapes import (
    NUMBER,
    OPT_NUMBER,
    POSITIVE,
    REASON_SPEC,
    SUMMARY_SPEC,
    NonEmpty,
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
    "compiled_step",
    "numpy",
    "cpp",
    "cuda_graph",
)


@dataclass(frozen=True)
class Config(Settings):
    seed: int = setting(0, **SEED)  # every variant starts from the same weights
    steps: int = setting(2000, low=1, high=10_000_000)  # training steps per timed repeat
    lr: float = setting(0.01, low=0, low_open=True, high=10)  # the notes' SGD learning rate
    hidden: int = setting(10, low=1, high=4096)  # the notes' 4-10-3 network
    warmup: int = setting(1, low=1, high=100)  # discarded runs per variant and device
    repeats: int = setting(3, low=1, high=1000)  # timed runs per variant and device
    chunk_steps: int = setting(200, low=1, high=10_000_000)  # the clock is read every so many
    threads: int = setting(1, low=1, high=1024)  # torch intra-op threads on the CPU
    variants: tuple[str, ...] = setting(VARIANTS, choices=VARIANTS)  # ways of doing the step
    # torch.compile backend; "eager" captures without codegen
    compile_backend: str = setting("inductor", choices=("inductor", "aot_eager", "eager"))
    loss_tolerance: float = setting(1e-5, low=0, high=1)  # |final loss - notes' loss| allowed
    param_tolerance: float = setting(1e-5, low=0, high=1)  # largest |Δ parameter| allowed
    profile_steps: int = setting(20, low=1, high=10_000)  # steps counted under torch.profiler
    peak_size: int = setting(1024, low=1, high=16_384)  # n of the n×n matmul for peak FLOP/s

    def check(self) -> None:
        if self.steps % self.chunk_steps:
            raise ValueError(f"chunk_steps ({self.chunk_steps}) must divide steps ({self.steps})")
        if "notes" not in self.variants:
            raise ValueError("variants must include 'notes': every other one is checked against it")


DATA_SPEC = {
    "steps": int,
    "threads": int,
    "flops_per_step": int,
    "hooks": {"model_call_runs_hook": bool, "forward_runs_hook": bool},
    "per_device": NonEmpty(
        [
            device_entry(
                peak_flops=NUMBER,
                floor_step_s=NUMBER,
                cpp_call_s=OPT_NUMBER,  # the C++ rung's call with an empty body
                variants=NonEmpty(
                    [
                        {
                            "variant": str,
                            "unsupported": Nullable(REASON_SPEC),
                            "first_call_s": OPT_NUMBER,
                            "warmup_s": [POSITIVE],
                            "step_s": [POSITIVE],
                            "summary": SUMMARY_SPEC,
                            "chunk_steps": int,
                            "chunk_step_s": [POSITIVE],
                            "final_loss": OPT_NUMBER,
                            "loss_difference": OPT_NUMBER,
                            "max_parameter_difference": OPT_NUMBER,
                            "equivalent": (bool, None),
                            "ops_per_step": OPT_NUMBER,
                            "kernels_per_step": OPT_NUMBER,
                            "syncs_per_step": OPT_NUMBER,
                        }
                    ]
                ),
            )
        ]
    ),
}


def metrics(data: dict[str, Any]) -> list[Metric]:
    return device_metrics(
        data["per_device"],
        lambda e: [
            (
                f"variant/{v['variant']}",
                "{variant}",
                {"variant": v["variant"]},
                v["chunk_step_s"],
            )
            for v in e["variants"]
        ],
    )


# Variants a fresh process would first spend seconds compiling: measured in the run only.
NOT_REPLICATED = ("compiled", "compiled_step")


def replica(config: Config) -> Config:
    """One more process's values: one repeat of two chunks of every variant that needs no
    compilation in a fresh process (the C++ step loads from the extension cache)."""
    steps = min(config.steps, 2 * config.chunk_steps)
    variants = tuple(v for v in config.variants if v not in NOT_REPLICATED)
    return dataclasses.replace(config, steps=steps, warmup=1, repeats=1, variants=variants)


DECLARATION = Declaration(
    name="step_overhead",
    order=30,
    title=N_("Step overhead: where a tiny training step's time goes"),
    config=Config,
    profiles={
        "default": Config(),
        # "eager" keeps dynamo's capture in the quick profile without inductor's ~20 s codegen
        "quick": Config(
            steps=300, chunk_steps=30, repeats=3, compile_backend="eager", peak_size=256
        ),
        "smoke": Config(
            steps=30,
            chunk_steps=10,
            repeats=2,
            compile_backend="eager",
            peak_size=64,
            profile_steps=3,
        ),
    },
    data_spec=DATA_SPEC,
    metrics=metrics,
    measure=f"{__name__}.measure",
    replica=replica,
)
