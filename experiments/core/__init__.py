"""The measuring core: the runner and its command line, the harness every experiment
measures with, the device interface, the machine probe, hardware names and the memory
accounting of a training step."""
