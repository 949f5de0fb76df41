"""Everything that measures, in four rooms:

- `contract/`: the result format, its reader and upgrades, the experiment
  declarations and the statistics both sides use (torch-free: `report/`
  imports this and nothing else from here);
- `core/`: the runner, the measuring harness, the device interface, the
  machine probe and the reading of hardware names;
- `workloads/`: the notes' data sets, networks and training loops;
- `suite/`: the experiments, one folder each (a torch-free declaration and
  the code that measures).

Importing this package imports nothing else (and never torch).
"""

from __future__ import annotations

__version__ = "0.2.0"
