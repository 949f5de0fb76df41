"""`python -m tools.fonts build REGULAR.ttc BOLD.ttc`: the CJK subsets the package ships.

A maintainer's step, run when the catalogues gain characters (a test says when): it cuts
Noto Sans CJK SC (Debian's fonts-noto-cjk) down to the 3,755 common Hanzi of GB 2312 level
1, CJK punctuation and every character of the catalogues (Regular), and the catalogues'
characters alone (Regular and Bold, embedded whole in every Chinese report).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from report.outputs.fonts import CATALOGUE_FACES, FULL_FACE
from report.outputs.shipped import FONTS as FONT_DIR

# The index of the Simplified Chinese face in Noto Sans CJK's collections.
SC_FACE_INDEX = 2


def gb2312_level_1() -> set[str]:
    """The 3,755 most common Hanzi (GB 2312 rows 16-55) and its symbol rows (1-9)."""
    characters = set()
    for high in [*range(0xA1, 0xAA), *range(0xB0, 0xD8)]:
        for low in range(0xA1, 0xFF):
            try:
                characters.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return characters


def catalogue_characters() -> set[str]:
    from babel.messages.pofile import read_po

    from report.words.i18n import LANGUAGES, catalogue_files

    found: set[str] = set()
    for language in LANGUAGES:
        for path in catalogue_files(language):
            with path.open("rb") as handle:
                for message in read_po(handle):
                    strings = message.string
                    for text in [strings] if isinstance(strings, str) else list(strings or []):
                        found.update(text)
    return found


def _write_subset(source: Path, characters: Iterable[str], target: Path) -> int:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    font = TTCollection(str(source)).fonts[SC_FACE_INDEX]
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    if target.suffix == ".woff2":
        options.flavor = "woff2"
        font.flavor = "woff2"
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(characters)))
    subsetter.subset(font)
    font.save(str(target))
    return target.stat().st_size


def build(regular_source: Path, bold_source: Path) -> None:
    # CJK punctuation and full-width forms, so a translation may use any of them; and what
    # a CJK run can contain between its Chinese characters (spaces, digits, Latin letters,
    # ×, →, µ, “ ”): a renderer keeps the CJK face for these, so it must have them too.
    ranges = [(0x20, 0x7F), (0xA0, 0x180), (0x2000, 0x2070), (0x2190, 0x2200), (0x2200, 0x2300)]
    ranges += [(0x3000, 0x3040), (0xFF01, 0xFF5F)]
    shared = {chr(c) for low, high in ranges for c in range(low, high)}
    catalogue = catalogue_characters() | shared
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    targets = (
        (regular_source, gb2312_level_1() | catalogue, FULL_FACE),
        (regular_source, catalogue, CATALOGUE_FACES[400]),
        (bold_source, catalogue, CATALOGUE_FACES[700]),
    )
    for source, characters, target in targets:
        size = _write_subset(source, characters, target)
        print(f"{target.name}: {len(characters)} characters, {size // 1024} KiB")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "build":
        print("usage: python -m tools.fonts build NotoSansCJK-Regular.ttc NotoSansCJK-Bold.ttc")
        sys.exit(2)
    build(Path(sys.argv[2]), Path(sys.argv[3]))
