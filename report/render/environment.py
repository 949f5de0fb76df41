"""The one Jinja environment every page is rendered in (report, diff, class view), and the
fonts a rendered page embeds.

Strict (a typo in a template is an error, not a blank), escaping, the i18n extension bound
to the reader's language, and the number filters (report.words.formatting) registered once.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from report.outputs import fonts, shipped
from report.words import formatting, i18n, vocabulary

# Where templates are looked up, in order (a test adds a folder for a toy experiment).
TEMPLATE_PATHS: list[Path] = [shipped.TEMPLATES]
# Replaced by the @font-face rules of exactly the glyphs a rendered document uses.
FONT_MARKER = "/* embedded fonts */"


def environment() -> jinja2.Environment:
    """The one Jinja environment: strict (a typo is an error, not a blank) and escaping."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_PATHS),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=False,  # keep the newline after a tag: it is the space between sentences
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True  # a trans block's line breaks are not part of it
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        gettext=i18n._, ngettext=i18n.ngettext, newstyle=True
    )
    env.filters.update(formatting.FILTERS)
    env.filters.update(
        data_source=vocabulary.data_source,
        reason=vocabulary.reason,
        layers=vocabulary.model_layers,
        status=vocabulary.status,
        profile=vocabulary.profile,
    )
    return env


def embed_fonts(html: str) -> str:
    """Put the @font-face rules for the CJK glyphs this document uses in place of the marker
    (and, in Chinese, drop the spaces that English sentence joins leave after 。，；：)."""
    if i18n.language() != i18n.SOURCE_LANGUAGE:
        html = tighten_after_full_width(html)
    return html.replace(FONT_MARKER, fonts.font_face_css(html), 1)


_KEEP_AS_IS = re.compile(r"(<(pre|code|script|style)\b.*?</\2>)", re.DOTALL)
_GAP_AFTER_FULL_WIDTH = re.compile(r"([。，；：！？）」”])[ \t\r\n]+(?=\S)")


def tighten_after_full_width(html: str) -> str:
    """Templates join sentences with a space, as English needs; after full-width
    punctuation Chinese needs none (the punctuation carries its own space), so it goes,
    everywhere but inside code."""
    parts = _KEEP_AS_IS.split(html)
    out = []
    index = 0
    while index < len(parts):
        out.append(_GAP_AFTER_FULL_WIDTH.sub(r"\1", parts[index]))
        if index + 1 < len(parts):
            out.append(parts[index + 1])  # the code block, untouched
        index += 3  # split() returns text, the whole match, the tag name
    return "".join(out)
