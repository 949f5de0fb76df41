"""Runs compared: which timings differ beyond noise and drift (compare, stats), and the
comparison as a terminal table, Markdown, HTML (views) and diff.json (document)."""
