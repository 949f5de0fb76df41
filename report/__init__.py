"""Everything that reads result files and renders them; never runs an experiment."""
