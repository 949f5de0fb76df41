"""Where the files the package ships beside its code are: templates, CSS and fonts.

In the repository they live in the top-level `templates/` (the design's layout); a built
wheel carries the same folder as package data at `report/templates/` (setup.py maps it), so
an installed tool renders from any folder without a checkout.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def _templates() -> Path:
    installed = _PACKAGE / "templates"
    return installed if installed.is_dir() else _PACKAGE.parent / "templates"


TEMPLATES = _templates()
FONTS = TEMPLATES / "fonts"
