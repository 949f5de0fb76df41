"""Maintainers' tools, not shipped in the package: the translation catalogues kept complete
(`python -m tools.catalogues`) and the shipped CJK font subsets rebuilt (`python -m
tools.fonts`)."""
