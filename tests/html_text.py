"""What a reader sees of a rendered page, by element: the text inside each element that has an
id (a section, a glossary entry) and its first heading, so that a test can say "this number
is in the Method section" without quoting the sentence around it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Folds the white space of the markup, not the no-break spaces the report puts between a
# number and its unit.
_SPACE = re.compile(r"[ \t\r\n]+")
VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class _Open:
    tag: str
    element_id: str | None
    text: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Open] = []
        self.texts: dict[str, str] = {}
        self.headings: dict[str, str] = {}
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        self.stack.append(_Open(tag, dict(attrs).get("id")))
        if tag in ("h1", "h2", "h3") and self._heading is None:
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID or not self.stack:
            return
        while self.stack:
            element = self.stack.pop()
            if element.element_id is not None:
                self.texts[element.element_id] = _SPACE.sub(" ", "".join(element.text)).strip()
            if element.tag in ("h1", "h2", "h3") and self._heading is not None:
                heading = _SPACE.sub(" ", "".join(self._heading)).strip()
                owner = next((e.element_id for e in reversed(self.stack) if e.element_id), None)
                if owner is not None:
                    self.headings.setdefault(owner, heading)
                self._heading = None
            if element.tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def text_of(html: str, element_id: str) -> str:
    """The text of the element with this id, white space folded (KeyError: no such id)."""
    return read(html).texts[element_id]


def heading_of(html: str, element_id: str) -> str:
    """The first heading inside the element with this id."""
    return read(html).headings[element_id]
