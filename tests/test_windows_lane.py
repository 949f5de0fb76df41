"""The Windows lane's reading of gloo_probe.py, on outputs recorded under Wine 8 in this
project's CI: the probe tells Wine's gloo gap from a product bug, so a probe that failed must
never read as one that worked, whichever of its two ranks got to print."""

from __future__ import annotations

import pytest

from tests.windows.lane import probe_outcome

TIMEOUT = (
    r"[C:\actions-runner\_work\pytorch\pytorch\third_party\gloo\gloo\transport\uv"
    r"\unbound_buffer.cc:65] Timed out waiting 15000ms for recv operation to complete"
)


@pytest.mark.parametrize(
    ("output", "outcome"),
    [
        # the usual Wine run: one rank's receive times out, the other aborts
        (f"rank 0: failed: {TIMEOUT}\nspawn: process 1 terminated with exit code 3\n", "failed"),
        # CI, 2026-12-06: the aborting rank made spawn end the other before it printed
        (
            "W1206 16:53:49.078000 32 Lib\\site-packages\\torch\\multiprocessing\\spawn.py:165]"
            " Terminating process 276 via signal SIGTERM\n"
            "spawn: process 0 terminated with exit code 3\n",
            "failed",
        ),
        # Windows, where gloo works: both ranks print the sum
        (
            "rank 0: all_reduce [3.0, 3.0, 3.0, 3.0] in 0.004 s\n"
            "rank 1: all_reduce [3.0, 3.0, 3.0, 3.0] in 0.004 s\n",
            "worked",
        ),
        # one rank's sum is not gloo working
        (
            "rank 0: all_reduce [3.0, 3.0, 3.0, 3.0] in 0.004 s\n"
            "spawn: process 1 terminated with exit code 3\n",
            "failed",
        ),
        # a probe that never reached gloo says nothing about it
        ("ModuleNotFoundError: No module named 'torch'\n", "unclear"),
        ("spawn: process 1 terminated with exit code 1\n", "unclear"),
    ],
)
def test_the_probes_output_reads_as_what_happened(output: str, outcome: str) -> None:
    assert probe_outcome(output) == outcome
