"""The experiments, one folder each: `__init__.py` declares it (torch-free), `measure.py`
measures it. `experiments.contract.declaration` finds them here; nothing lists them."""
