"""`python -m tests.standin ARGS`: the runner's own command line with a stand-in GPU beside the
machine's devices, so one real run in its own process exercises the GPU-side control flow of
every experiment and every report section (the stand-in is labelled simulated throughout)."""

import sys

from experiments.core.cli import main
from experiments.core.devices import SimulatedDevice

STAND_IN = "Stand-in GPU"

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], extra_devices=[SimulatedDevice(STAND_IN)]))
