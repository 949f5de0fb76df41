"""Chinese text everywhere the report can put it: HTML, PDF and plots, on any machine.

Most students' machines have a CJK font, but not all (a minimal Linux has only
DejaVu), and without one Chinese prints as empty boxes, silently. So the
project ships a subset of Noto Sans CJK SC (SIL Open Font License, see
templates/fonts/OFL.txt): the Regular face with the 3,755 most common Hanzi
(GB 2312 level 1), CJK punctuation and every character of the catalogues, and
the Bold face with the catalogues' characters. Simplified-Chinese glyph
shapes, whatever the system's default CJK font is.

- HTML and PDF embed only the glyphs a report uses (a per-report subset,
  WOFF2 in a data URI: the page stays one self-contained file).
- Plots register the faces with matplotlib, after DejaVu Sans, so a CJK label
  or device name draws as itself; system CJK fonts come after, for rare
  characters outside the subset.

`python -m tools.fonts build REGULAR.ttc BOLD.ttc` (a maintainer's tool, not
shipped) rebuilds the subsets from Noto Sans CJK (Debian's fonts-noto-cjk)
when the catalogues gain characters; a test says when that is needed.
"""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

from report.outputs.escaping import terminal_text
from report.outputs.shipped import FONTS as FONT_DIR

FAMILY = "Noto Sans CJK SC"
# For characters beyond the catalogues (a label, a device name): the same face, another name
# that the CSS font stack falls back to.
EXTRA_FAMILY = "Noto Sans CJK SC Extra"
# Everything the report's own words use, ready to embed as it is (no work per render).
CATALOGUE_FACES = {
    400: FONT_DIR / "NotoSansCJKsc-Regular-catalogue.woff2",
    700: FONT_DIR / "NotoSansCJKsc-Bold-catalogue.woff2",
}
# The 3,755 common Hanzi too: for plots (matplotlib reads it) and for user text.
FULL_FACE = FONT_DIR / "NotoSansCJKsc-Regular-subset.otf"
# System CJK families worth falling back to, Simplified Chinese first.
SYSTEM_FALLBACKS = (
    "PingFang SC",
    "Microsoft YaHei",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)

# Code points of CJK scripts, punctuation and full-width forms.
CJK_RANGES = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))


def _needs_cjk(character: str) -> bool:
    code = ord(character)
    return code >= 0x20000 or any(low <= code <= high for low, high in CJK_RANGES)


@functools.cache
def coverage(path: Path) -> frozenset[int]:
    """Code points a shipped face has glyphs for."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing(text: str) -> set[str]:
    """Characters of `text` beyond Latin that no shipped face can draw."""
    covered = coverage(FULL_FACE) | coverage(CATALOGUE_FACES[400])
    return {c for c in set(text) if _needs_cjk(c) and ord(c) not in covered}


@functools.cache
def _data_uri(path: Path) -> str:
    return "data:font/woff2;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@functools.cache
def _extra_subset(characters: frozenset[str]) -> str:
    """A WOFF2 data URI of the full face cut down to `characters` (a few, from user text)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff2"
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(FULL_FACE)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters)))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff2"
    font.save(buffer)
    return "data:font/woff2;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _rule(family: str, weight: int, uri: str) -> str:
    return (
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
        f'src: url({uri}) format("woff2"); }}'
    )


def font_face_css(text: str) -> str:
    """@font-face rules for the CJK glyphs `text` needs (empty when it needs none): the
    catalogue faces whole, and a small subset for characters beyond them."""
    wanted = {c for c in set(text) if _needs_cjk(c)}
    rules = [
        _rule(FAMILY, weight, _data_uri(path))
        for weight, path in CATALOGUE_FACES.items()
        if any(ord(c) in coverage(path) for c in wanted)
    ]
    extra = frozenset(
        c
        for c in wanted
        if ord(c) not in coverage(CATALOGUE_FACES[400]) and ord(c) in coverage(FULL_FACE)
    )
    if extra:
        rules.append(_rule(EXTRA_FAMILY, 400, _extra_subset(extra)))
    return "\n".join(rules)


@functools.cache
def _plot_coverage() -> frozenset[int]:
    """What the plot fonts can draw beyond Latin: the shipped face and installed CJK fonts."""
    from fontTools.ttLib import TTCollection, TTFont
    from matplotlib import font_manager

    covered = set(coverage(FULL_FACE))
    wanted = set(matplotlib_families()[2:])
    for entry in font_manager.fontManager.ttflist:
        if entry.name not in wanted:
            continue
        try:
            if entry.fname.lower().endswith((".ttc", ".otc")):
                faces = TTCollection(entry.fname, lazy=True).fonts
            else:
                faces = [TTFont(entry.fname, lazy=True)]
            for face in faces:
                covered.update(face.getBestCmap())
        except Exception:  # an unreadable system font is simply not a fallback
            continue
    return frozenset(covered)


def drawable(text: str) -> str:
    """`text` for a plot label: a CJK character no plot font can draw becomes "?" (an
    explicit mark instead of a silent empty box), a control character its escape."""
    text = terminal_text(text)
    if not any(_needs_cjk(c) for c in text):
        return text
    covered = _plot_coverage()
    return "".join("?" if _needs_cjk(c) and ord(c) not in covered else c for c in text)


@functools.cache
def matplotlib_families() -> tuple[str, ...]:
    """The plot font list: DejaVu Sans for Latin, the shipped CJK face, system CJK fonts."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(FULL_FACE))
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", FAMILY, *(f for f in SYSTEM_FALLBACKS if f in installed))
