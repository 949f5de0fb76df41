"""Text from result files, made safe for the plain-text outputs that print it.

Labels, run ids, error messages and machine names come from JSON files that a
classmate sent; the HTML escapes them through Jinja's autoescape, but Markdown
and the terminal have no such layer. A label holding `<script>` must stay
text in a Markdown viewer, and one holding an ESC sequence must not recolour or
clear the reader's terminal.
"""

from __future__ import annotations

import re

# Markdown (CommonMark + GitHub tables) reads these as markup in running text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~&])")
# C0 controls (but tab), DEL and C1 controls: what a terminal acts on instead of printing.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def markdown_text(text: str) -> str:
    """`text` as literal characters in running Markdown text or a table cell, on one line."""
    one_line = _MARKDOWN_SPECIAL.sub(r"\\\1", terminal_text(re.sub(r"\s+", " ", text)))
    # at the start of a line these begin a list or underline a heading
    one_line = re.sub(r"^( ?)([-+=])", r"\1\\\2", one_line)
    return re.sub(r"^( ?\d+)([.)])", r"\1\\\2", one_line)


def markdown_code(text: str) -> str:
    """`text` for inside a Markdown code span: a backtick would end the span, and a code
    span has no escapes, so it becomes the look-alike modifier letter (U+02CB)."""
    return terminal_text(re.sub(r"\s+", " ", text)).replace("`", "\u02cb")


def terminal_text(text: str) -> str:
    """`text` with every control character shown as its escape (ESC as \\x1b), so printing
    it cannot move the cursor, change colours or rewrite the screen."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
