"""The contract between measuring and rendering: torch-free, standard library only.

- `format`: reading and writing result files, versions, the format's history;
- `shapes`: the shape language and the shapes every run writes;
- `upgrades`: one function per version step, so readers see the current version only;
- `declaration`: one declaration per experiment, found in `experiments/suite/`;
- `summary` and `statistics`: what both sides compute from raw values.

`report/` imports nothing from `experiments` but this package.
"""
